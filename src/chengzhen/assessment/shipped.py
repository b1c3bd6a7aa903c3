"""The indicator frameworks the platform ships with (data/frameworks/*.yaml), installed after
``migrate`` when their ``CODE@VERSION`` is missing. A version already present — shipped earlier or
an office's own — is left as it is."""

from __future__ import annotations

from pathlib import Path

FRAMEWORKS = Path(__file__).parent / "data" / "frameworks"


def shipped_files() -> list[Path]:
    return sorted(FRAMEWORKS.glob("*.yaml"))


def install_shipped(sender=None, using: str = "default", **kwargs) -> None:
    from chengzhen.audit.context import acting_as
    from chengzhen.org.models import system_user

    from . import services
    from .framework import load_framework
    from .models import FrameworkVersion

    if using != "default":
        return
    system = system_user()
    with acting_as(system, "migration:assessment shipped frameworks"):
        for path in shipped_files():
            text = path.read_text(encoding="utf-8")
            fw = load_framework(text, path.name)
            if not FrameworkVersion.objects.filter(framework__code=fw.code, label=fw.version).exists():
                services.import_framework(system, fw, source_text=text, note="随平台提供")
