"""A 10,000-row customary-layout sheet imports whole, and re-imports as unchanged."""

import pytest

from chengzhen.audit.verify import verify
from chengzhen.demo.sheets import write_ledger_sheet
from chengzhen.ledger.importer import import_ledger
from chengzhen.ledger.models import Cooperation, Task, TimeNode


@pytest.mark.slow
def test_ten_thousand_rows(county, tmp_path):
    path = write_ledger_sheet(tmp_path / "big.xlsx", 10_000, ["青山镇", "白河镇", "县住建局"],
                              ["县城镇化领导小组办公室", "青山村村民委员会", "示范县人民政府"])
    result = import_ledger(county.users["supervisor"], county.programme, path)
    assert result.count("create") == 10_000
    assert Task.objects.count() == 10_000
    assert Task.objects.filter(parent__isnull=False).count() == 1_000
    assert Cooperation.objects.count() == 20_000 and TimeNode.objects.count() == 20_000
    assert result.computed == ["累计完成投资"]
    again = import_ledger(county.users["supervisor"], county.programme, path, dry_run=True)
    assert again.count("unchanged") == 10_000
    assert verify().ok
