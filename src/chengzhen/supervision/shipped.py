"""The rule sets and calendar the platform ships with, installed after ``migrate`` when
missing. An office's own edits are later versions and are never overwritten; a calendar year
already present is left as the office keeps it."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
RULE_SET_FILES = ("default.yaml", "three-colour.yaml")
CALENDAR_FILES = ("calendar-2026.yaml",)


def install_shipped(sender=None, using: str = "default", **kwargs) -> None:
    import yaml

    from chengzhen.audit.context import acting_as
    from chengzhen.org.models import system_user

    from . import services
    from .models import CalendarDay, RuleSet

    if using != "default":
        return
    system = system_user()
    with acting_as(system, "migration:supervision shipped data"):
        for name in RULE_SET_FILES:
            text = (HERE / "rulesets" / name).read_text(encoding="utf-8")
            code = yaml.safe_load(text)["code"]
            if not RuleSet.objects.filter(code=code).exists():
                services.import_rule_set(system, text, source=name, note="随平台提供")
        for name in CALENDAR_FILES:
            text = (HERE / "data" / name).read_text(encoding="utf-8")
            year = yaml.safe_load(text)["year"]
            if not CalendarDay.objects.filter(date__year=year).exists():
                services.import_calendar(system, text, source=name)
