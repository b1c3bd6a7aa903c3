"""The ``chengzhen`` command: the project's manage.py, installed into ``.venv/bin``.

Every Django command works (``chengzhen migrate``), and the platform's own commands follow
``chengzhen NOUN VERB`` (``chengzhen ledger import FILE``). Exit codes: 0 success, 1 refused
input or failed work, 2 wrong usage.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengzhen.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
