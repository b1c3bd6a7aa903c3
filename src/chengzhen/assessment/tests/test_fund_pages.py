"""Incentive funds (以奖代补) through the service, the command and the pages: a supervisor allocates a
pool on a published round (by tiers with a 结余, again proportionally — the rows replaced, to the
fen), the .xlsx reads back with its amounts, 合计 and 结余 lines; a town sees only its own row and
may not allocate; an unpublished round and bad parameters are refused naming the field; every
allocation row is in the audit trail."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from chengzhen.assessment import fund_services, rounds
from chengzhen.assessment.models import FundAllocation, FundPool, Round
from chengzhen.assessment.tests.test_round_pages import _fill
from chengzhen.assessment.tests.test_rounds import CHENGZHEN, round_  # noqa: F401
from chengzhen.audit.models import AuditRecord
from chengzhen.problems import Refused

NAME = "2026年度测试重点镇以奖代补资金"
TIERS = {"良好": "700万", "合格": "3000000"}


@pytest.fixture
def published(county, round_, make_task):  # noqa: F811
    """RT-2026 scored and published: 青山镇 88.00 良好 (1st), 白河镇 76.00 合格 (2nd)."""
    make_task("P1", status="completed")
    make_task("P2", lead="town_b", status="completed")
    _fill(county, round_)
    sup = county.users["supervisor"]
    rounds.score_round(sup, round_)
    return rounds.publish_round(sup, Round.objects.get(pk=round_.pk))


def _amounts(pool: FundPool) -> dict[str, Decimal]:
    return {a.unit.code: a.amount for a in pool.allocations.select_related("unit")}


def _read(data: bytes) -> tuple[list[tuple], str, str]:
    ws = load_workbook(io.BytesIO(data)).active
    rows = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=5)]
    return rows, ws["A1"].value, ws.page_setup.paperSize


def test_the_service_allocates_by_tiers_then_replaces_by_score_to_the_fen(county, published):
    sup, town_a, town_b = county.users["supervisor"], county.units["town_a"], county.units["town_b"]
    pool = fund_services.allocate_fund(sup, code="JB-2026", name=NAME, amount="1200万", round="RT-2026",
                                       method="tiers", params={"tiers": TIERS})
    assert pool.amount == Decimal("12000000.00") and pool.remainder == Decimal("2000000.00")
    assert _amounts(pool) == {town_a.code: Decimal("7000000.00"), town_b.code: Decimal("3000000.00")}
    first = {a.unit.code: a for a in pool.allocations.select_related("unit")}
    mine = first[town_a.code]
    assert mine.grade == "良好" and mine.rank == 1 and mine.basis == "良好定额"
    assert first[town_b.code].total == Decimal("76.00")
    assert pool.params == {"tiers": {"良好": "7000000.00", "合格": "3000000.00"}, "exclude_flagged": True}
    old_pks = [str(a.pk) for a in first.values()]
    # again, proportionally: 88 : 76 of ¥10,000,000.00 — 5,365,853.658… and 4,634,146.341…
    pool = fund_services.allocate_fund(sup, code="JB-2026", name=NAME, amount=Decimal("10000000"), round=published,
                                       method="proportional", params={})
    assert FundPool.objects.count() == 1 and FundAllocation.objects.count() == 2
    assert _amounts(pool) == {town_a.code: Decimal("5365853.66"), town_b.code: Decimal("4634146.34")}
    assert pool.remainder == 0 and pool.method == "proportional"
    # every row's creation and the replaced rows' deletion are audited, as the supervisor
    created = AuditRecord.objects.filter(model="assessment.fundallocation", action="create")
    assert created.count() == 4 and set(created.values_list("actor_username", flat=True)) == {"supervisor"}
    deleted = AuditRecord.objects.filter(model="assessment.fundallocation", action="delete")
    assert sorted(deleted.values_list("object_pk", flat=True)) == sorted(old_pks)
    assert AuditRecord.objects.filter(model="assessment.fundpool", object_pk=str(pool.pk)).count() == 2


def test_refusals_name_the_field_and_write_nothing(county, round_, published):  # noqa: F811
    sup = county.users["supervisor"]
    rounds.create_round(sup, code="RT-2027", name="2027年度测试考核", framework_name="RT@1",
                        unit_codes=[county.units["town_a"].code], year=2027, period_from=published.period_from,
                        period_to=published.period_to, submit_by=published.submit_by)
    with pytest.raises(Refused, match="RT-2027（2027年度测试考核）尚未公布") as info:
        fund_services.allocate_fund(sup, code="JB-2027", name=NAME, amount="100", round="RT-2027", method="tiers",
                                    params={"tiers": TIERS})
    assert info.value.problems[0].column == "round"
    cases = [
        ({"amount": "-5"}, "amount", "不能为负"),
        ({"amount": "六千八百万"}, "amount", "不是金额"),
        ({"params": {"tiers": {"特等": "1"}}}, "tiers.特等", "没有等次“特等”"),
        ({"params": {"tiers": {"良好": "-1"}}}, "tiers.良好", "不能为负"),
        ({"method": "proportional", "params": {"floor": "很多"}}, "floor", "不是金额"),
        ({"method": "proportional", "params": {"floor": "600万"}}, "floor", "保底合计 12,000,000.00 元"),
        ({"method": "lottery"}, "method", "未知"),
        ({"code": "奖补/2026"}, "code", "资金代码"),
    ]
    for change, column, reason in cases:
        args = {"code": "JB-2026", "name": NAME, "amount": "1000万", "round": "RT-2026", "method": "tiers",
                "params": {"tiers": TIERS}, **change}
        with pytest.raises(Refused) as info:
            fund_services.allocate_fund(sup, **args)
        assert any(p.column == column and reason in p.reason for p in info.value.problems), (change, info.value)
    with pytest.raises(PermissionDenied):
        fund_services.allocate_fund(county.users["editor_a"], code="JB-2026", name=NAME, amount="1000万",
                                    round="RT-2026", method="tiers", params={"tiers": TIERS})
    assert not FundPool.objects.exists() and not FundAllocation.objects.exists()


def test_the_supervisor_allocates_on_the_page_and_downloads_the_table(client, county, published):
    town_a, town_b = county.units["town_a"], county.units["town_b"]
    client.force_login(county.users["supervisor"])
    board = client.get("/assessment/rounds/RT-2026/").content.decode()
    assert 'id="funds-link"' in board and "/assessment/funds/?round=RT-2026" in board
    form = client.get("/assessment/funds/?round=RT-2026").content.decode()
    assert 'data-grade="优秀"' in form and 'value="RT-2026" selected' in form
    response = client.post("/assessment/funds/", {
        "code": "JB-2026", "name": NAME, "round": "RT-2026", "amount": "12000000", "method": "tiers",
        "tier_0": "10000000", "tier_1": "700万", "tier_2": "3000000"}, follow=True)
    assert response.redirect_chain[-1][0] == "/assessment/funds/JB-2026/"
    page = response.content.decode()
    assert "已分配 JB-2026：合计 10,000,000.00 元，结余 2,000,000.00 元" in page
    assert "7,000,000.00" in page and "3,000,000.00" in page and "良好定额" in page
    assert 'id="remainder"' in page and "结余" in page and 'id="download-xlsx"' in page
    response = client.get("/assessment/funds/JB-2026/xlsx/")
    assert response.status_code == 200
    rows, title, paper = _read(b"".join(response.streaming_content))
    assert title == f"{NAME}分配表" and paper == 9  # A4
    by_name = {r[1]: r for r in rows}
    assert by_name["青山镇"][2] == 88 and by_name["青山镇"][3] == "良好" and by_name["青山镇"][4] == 1
    assert by_name["青山镇"][6] == 7000000 and by_name["青山镇"][7] == 700
    assert by_name["白河镇"][6] == 3000000 and by_name["白河镇"][0] == 2
    assert by_name["合计"][6] == 10000000 and by_name["合计"][7] == 1000
    assert by_name["结余"][6] == 2000000 and "12,000,000.00" in by_name["结余"][5]
    assert [r[1] for r in rows] == ["青山镇", "白河镇", "合计", "结余"]
    # a bad parameter on the page: a message naming the field, nothing changed
    response = client.post("/assessment/funds/", {
        "code": "JB-2026", "name": NAME, "round": "RT-2026", "amount": "12000000", "method": "tiers",
        "tier_1": "-700万"})
    assert response.status_code == 400
    assert "tiers.良好" in " ".join(str(m) for m in response.context["messages"])
    assert _amounts(FundPool.objects.get())[town_b.code] == Decimal("3000000.00")
    # a shortfall shows as 缺口
    client.post("/assessment/funds/", {"code": "JB-2026", "name": NAME, "round": "RT-2026", "amount": "800万",
                                       "method": "tiers", "tier_1": "700万", "tier_2": "300万"})
    page = client.get("/assessment/funds/JB-2026/").content.decode()
    assert "缺口" in page and "2,000,000.00" in page
    rows, _title, _paper = _read(b"".join(client.get("/assessment/funds/JB-2026/xlsx/").streaming_content))
    assert rows[-1][1] == "缺口" and rows[-1][6] == 2000000
    assert town_a.code in page


def test_a_town_sees_only_its_own_row_and_may_not_allocate(client, county, published):
    sup = county.users["supervisor"]
    fund_services.allocate_fund(sup, code="JB-2026", name=NAME, amount="1200万", round="RT-2026", method="tiers",
                                params={"tiers": TIERS})
    client.force_login(county.users["editor_a"])
    listing = client.get("/assessment/funds/").content.decode()
    assert NAME in listing and 'id="fund-form"' not in listing
    page = client.get("/assessment/funds/JB-2026/").content.decode()
    assert f'data-code="{county.units["town_a"].code}"' in page and "7,000,000.00" in page
    assert f'data-code="{county.units["town_b"].code}"' not in page and "白河镇" not in page
    assert 'id="own-only"' in page and 'id="download-xlsx"' not in page
    assert client.get("/assessment/funds/JB-2026/xlsx/").status_code == 403
    response = client.post("/assessment/funds/", {"code": "JB-X", "name": NAME, "round": "RT-2026",
                                                  "amount": "1", "method": "tiers", "tier_0": "1"})
    assert response.status_code == 403 and FundPool.objects.count() == 1
    board = client.get("/assessment/rounds/RT-2026/", follow=True).content.decode()
    assert 'id="funds-link"' not in board
    assert client.get("/assessment/funds/NOPE/").status_code == 404
    client.force_login(county.users["leader"])  # a leader over both towns reads every row
    page = client.get("/assessment/funds/JB-2026/").content.decode()
    assert "白河镇" in page and "青山镇" in page


@pytest.mark.django_db(transaction=True)
def test_the_command_allocates_shows_lists_and_exports(county, tmp_path):
    from chengzhen.assessment import services
    from chengzhen.assessment.framework import load_framework
    from chengzhen.assessment.tests.test_rounds import FW
    from chengzhen.ledger.tests.test_jobs import worker_env

    sup = county.users["supervisor"]
    services.import_framework(sup, load_framework(FW))
    r = rounds.create_round(sup, code="RT-2026", name="2026年度测试考核", framework_name="RT@1",
                            unit_codes=[county.units["town_a"].code, county.units["town_b"].code], year=2026,
                            period_from=county.programme.start_date, period_to=county.programme.end_date,
                            submit_by=county.programme.end_date, programme=county.programme)
    _fill(county, r)
    rounds.score_round(sup, r)
    run = lambda *a: subprocess.run([CHENGZHEN, "fund", *a], capture_output=True, text=True,  # noqa: E731
                                    env=worker_env(), timeout=120)
    out = run("allocate", "JB-2026", "--round", "RT-2026", "--name", NAME, "--amount", "1200万",
              "--method", "tiers", "--tier", "良好=700万", "--tier", "合格=3000000", "--as", "supervisor")
    assert out.returncode == 1 and "round: 考核轮次 RT-2026（2026年度测试考核）尚未公布" in out.stderr
    rounds.publish_round(sup, Round.objects.get(pk=r.pk))
    out = run("allocate", "JB-2026", "--round", "RT-2026", "--name", NAME, "--amount", "1200万",
              "--method", "proportional", "--floor", "100万", "--cap", "700万", "--as", "supervisor")
    assert out.returncode == 0, out.stderr
    assert "已分配 JB-2026：2 个对象，合计 12,000,000.00 元，结余 0.00 元" in out.stdout
    pool = FundPool.objects.get(code="JB-2026")
    assert sum(_amounts(pool).values()) == Decimal("12000000.00")
    assert AuditRecord.objects.filter(model="assessment.fundallocation", actor_username="supervisor").count() == 2
    out = run("show", "JB-2026")
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and lines[-2] == "合计\t12000000.00" and lines[-1] == "结余\t0.00"
    assert len(lines) == 4 and all(len(line.split("\t")) == 2 for line in lines)
    out = run("list")
    assert out.stdout.startswith(f"JB-2026\t{NAME}\t12000000.00\t按得分比例\tRT-2026\t结余 0.00")
    target = tmp_path / "分配表.xlsx"
    out = run("export", "JB-2026", "-o", str(target))
    assert out.returncode == 0, out.stderr
    rows, title, _paper = _read(target.read_bytes())
    assert [r[1] for r in rows][-2:] == ["合计", "结余"] and rows[-2][6] == 12000000
    out = run("allocate", "JB-2026", "--round", "RT-2026", "--name", NAME, "--amount", "1000万",
              "--method", "tiers", "--tier", "特等=1", "--as", "supervisor")
    assert out.returncode == 1 and "tiers.特等" in out.stderr
    out = run("allocate", "JB-2026", "--round", "RT-2026", "--name", NAME, "--amount", "1000万",
              "--method", "tiers", "--tier", "良好=1", "--as", "editor_a")
    assert out.returncode == 1 and "无权限" in out.stderr
    assert FundPool.objects.get(code="JB-2026").amount == Decimal("12000000.00")


def test_the_api_reads_pools_and_only_the_callers_rows(county, published):
    from rest_framework.test import APIClient

    fund_services.allocate_fund(county.users["supervisor"], code="JB-2026", name=NAME, amount="800万",
                                round="RT-2026", method="tiers", params={"tiers": TIERS})
    api = APIClient()
    api.force_authenticate(county.users["editor_a"])
    listing = api.get("/api/funds/").json()
    items = listing["results"] if isinstance(listing, dict) else listing
    assert [p["code"] for p in items] == ["JB-2026"]
    assert items[0]["remainder"] == "-2000000.00" and items[0]["remainder_label"] == "缺口"
    detail = api.get("/api/funds/JB-2026/").json()
    assert [a["subject"] for a in detail["allocations"]] == [county.units["town_a"].code]
    assert detail["allocations"][0]["amount"] == "7000000.00" and detail["complete"] is False
    assert api.get("/api/funds/NOPE/").status_code == 404
    assert api.post("/api/funds/", {}, format="json").status_code == 405
    api.force_authenticate(county.users["supervisor"])
    detail = api.get("/api/funds/JB-2026/").json()
    assert len(detail["allocations"]) == 2 and detail["complete"] is True and detail["allocated"] == "10000000.00"
