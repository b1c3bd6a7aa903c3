"""``chengzhen demo`` around the load: its help, and a database holding other data."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chengzhen.audit.models import AuditHead
from chengzhen.demo import build
from chengzhen.demo.management.commands.demo import Command
from chengzhen.ledger.models import Task
from chengzhen.org.models import Division, Unit


def test_help_is_in_chinese():
    text = Command().create_parser("chengzhen", "demo").format_help()
    assert "示范县" in text and "可重复运行" in text and build.PASSWORD in text
    assert "--as USERNAME" in text and "以该用户身份执行" in text


def test_refused_when_its_codes_are_taken(county, make_task):
    """The shared fixture's county already uses unit code LGO: nothing is written."""
    make_task("T1")
    head = AuditHead.objects.get().seq
    counts = (Division.objects.count(), Unit.objects.count(), Task.objects.count())
    with pytest.raises(CommandError, match="示范县未载入.*LGO"):
        call_command("demo", stdout=io.StringIO())
    assert (Division.objects.count(), Unit.objects.count(), Task.objects.count()) == counts
    assert AuditHead.objects.get().seq == head


def test_unknown_as_user_is_refused(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("demo", "--as", "nobody", stdout=io.StringIO())
    assert not build.exists()
