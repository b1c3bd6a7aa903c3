"""The base of ``chengzhen NOUN VERB`` commands.

A noun command declares its verbs as methods ``verb_<name>`` and their arguments in
``add_verbs``. Exit codes: 0 success, 1 refused input or failed work, 2 wrong usage (argparse).
Refused input prints one ``FILE:SHEET:ROW:COLUMN: reason`` line per problem on stderr.
Commands that write take ``--as USERNAME`` and run, audited, as that person (default: the
system account).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chengzhen.audit.context import acting_as
from chengzhen.problems import Refused


class NounCommand(BaseCommand):
    noun = ""

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
        self.add_verbs(sub)

    def add_verbs(self, sub) -> None:  # pragma: no cover - every noun overrides
        raise NotImplementedError

    @staticmethod
    def add_as(parser) -> None:
        parser.add_argument(
            "--as", dest="as_user", metavar="USERNAME", default=None,
            help="以该用户身份执行并记入审计（默认：系统账号 system）",
        )

    def actor(self, options):
        return resolve_actor(options.get("as_user"))

    def handle(self, *args, **options):
        verb = options["verb"]
        method = getattr(self, "verb_" + verb.replace("-", "_"))
        user = self.actor(options) if "as_user" in options else None
        source = f"command:{self.noun} {verb}"
        try:
            with acting_as(user, source):
                return method(user=user, **options)
        except Refused as exc:
            for p in exc.problems:
                self.stderr.write(str(p))
            raise CommandError(f"已拒绝：{len(exc.problems)} 处问题，未做任何修改") from None
        except PermissionDenied as exc:
            raise CommandError(f"无权限：{exc}") from None


def resolve_actor(username: str | None):
    """The user a command runs as: ``--as USERNAME``, else the system account."""
    from chengzhen.org.models import User, system_user

    if not username:
        return system_user()
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--as: 没有用户名为 {username!r} 的用户")
    return user
