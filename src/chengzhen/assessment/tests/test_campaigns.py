"""Joint campaigns in the database: programmes bound to the shipped frameworks (卫生城市, 园林城市,
文明城市), a plan merged on the page for the county and year, lead units settled (stale refused),
the matcher's proposals confirmed, tasks made into the ledger and made again without overwriting
what people edited, one value fanned out to the other campaign's round, and who may do what."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from openpyxl import load_workbook

from chengzhen.assessment import campaign_services as services
from chengzhen.assessment import rounds
from chengzhen.assessment.models import (
    CampaignIndicatorTask,
    JointPlan,
    MatchStatus,
    MeasureMatch,
    MergedIndicator,
    SubjectProfile,
    Value,
    ValueStatus,
)
from chengzhen.ledger.services import StaleEdit
from chengzhen.org.models import Unit
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme, Target


def _programme(county, code: str, name: str) -> Programme:
    return Programme.objects.create(code=code, name=name, kind="other", start_date=dt.date(2026, 1, 1),
                                    end_date=dt.date(2028, 12, 31), owner_unit=county.units["office"])


@pytest.fixture
def campaigns(county):
    """Three campaigns on the shipped frameworks, the county's profile for 2026 (under 500k, north)
    and the departments the frameworks name."""
    sup = county.users["supervisor"]
    gov = county.units["gov"]
    for short in ("市园林局", "市城管局", "市水务局", "市生态环境局", "市文明办", "市卫健委"):
        Unit.objects.create(code=f"D{Unit.objects.count():03d}", name=short, short_name=short, kind="department",
                            parent=gov)
    SubjectProfile.objects.create(unit=gov, year=2026, attributes={"population_band": "under_500k",
                                                                   "climate": "north"})
    out = {}
    for code, name, fw, title in (("WSCS2026", "国家卫生城市创建", "WSCS", "国家卫生城市"),
                                  ("YLCS2026", "国家园林城市创建", "YLCS", "国家园林城市"),
                                  ("WMCS2026", "全国文明城市创建", "WMCS", "全国文明城市")):
        p = _programme(county, code, name)
        out[code] = services.bind_campaign(sup, p, fw, title)
    Target.objects.create(programme=out["YLCS2026"].programme, level="stage", name="园林城市申报", value=1,
                          subject_unit=gov, due_date=dt.date(2027, 6, 30))
    return out


def _plan_form(**changes) -> dict:
    form = {"code": "LC-2026", "name": "2026年创建合并指标", "campaigns": ["WSCS2026", "YLCS2026", "WMCS2026"],
            "subject": "411300", "year": "2026", "lead_rule": "binding", "precedence": ""}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_a_plan_merges_the_campaigns_for_the_county(client, county, campaigns):
    client.force_login(county.users["supervisor"])
    page = client.get("/assessment/joint/").content.decode()
    assert "国家园林城市" in page and 'id="plan-form"' in page
    response = client.post("/assessment/joint/", _plan_form(), follow=True)
    assert response.redirect_chain[-1][0] == "/assessment/joint/LC-2026/", _messages(response)
    plan = JointPlan.objects.get(code="LC-2026")
    green = plan.indicators.get(key="green_coverage_rate")
    # 卫生城市 (2000s) ≥ 36%, 园林城市 2005 north < 50万: the binding one is the higher
    campaigns_named = {s["campaign"] for s in green.sources}
    assert {"国家卫生城市", "国家园林城市"} <= campaigns_named
    assert green.binding.startswith("≥") and "%" in green.binding
    bound = [s for s in green.sources if s["binding"]]
    assert bound and all(Decimal(green.binding.split()[1].rstrip("%")) >= Decimal(s["threshold"].split()[1]
                                                                                    .rstrip("%"))
                         for s in green.sources if s["threshold"].startswith("≥"))
    assert green.lead_unit is not None and green.lead_unit.short_name == "市园林局"
    assert green.deadline == dt.date(2027, 6, 30)  # 园林城市's stage target is the earliest
    # the matrix page: a column per campaign, the binding threshold marked
    matrix = client.get("/assessment/joint/LC-2026/").content.decode()
    row = matrix.split('data-key="green_coverage_rate"')[1].split("</tr>")[0]
    assert 'class="threshold binding"' in row and "市园林局" in row
    assert matrix.count('class="campaign-cell"') == 3 * plan.indicators.count()
    only = client.get("/assessment/joint/LC-2026/?show=conflicts").content.decode()
    from django.db.models import Q

    open_questions = plan.indicators.filter(~Q(conflict="") | ~Q(lead_question=""))
    assert only.count("<tr id=\"m") == open_questions.count() > 0
    # the workbook: the matrix sheet's green row and the long sheet
    data = b"".join(client.get("/assessment/joint/LC-2026/file/").streaming_content)
    wb = load_workbook(io.BytesIO(data))
    names = [ws.title for ws in wb.worksheets]
    assert len(names) == 2
    cells = [c.value for r in wb.worksheets[0].iter_rows() for c in r if c.value is not None]
    assert "建成区绿化覆盖率" in cells and "市园林局" in cells
    # merging again keeps what a supervisor settled
    other = Unit.objects.get(short_name="市城管局")
    services.settle_lead(county.users["supervisor"], green, lead_unit=other, cooperating=[green.lead_unit],
                         expected_version=green.version)
    with pytest.raises(StaleEdit):
        services.settle_lead(county.users["supervisor"], green, lead_unit=other, cooperating=[],
                             expected_version=green.version)
    page = client.get("/assessment/joint/LC-2026/rerun/")  # the preview: nothing changed in the merge itself
    text = page.content.decode()
    assert page.status_code == 200 and "重新合并（预览）" in text and 'id="no-changes"' in text
    client.post("/assessment/joint/LC-2026/rerun/")
    green = MergedIndicator.objects.get(plan=plan, key="green_coverage_rate")
    assert green.lead_unit == other and green.cooperating == [Unit.objects.get(short_name="市园林局").code]
    assert green.lead_question == ""  # settled: no longer a question for the supervisor


def test_bad_plans_are_refused_naming_the_field(client, county, campaigns):
    client.force_login(county.users["supervisor"])
    for changes, said in (({"code": "lc 2026"}, "清单代码"), ({"campaigns": None}, "创建活动"),
                          ({"year": ""}, "属性年度"), ({"year": "2025"}, "没有 2025 年度的对象属性")):
        response = client.post("/assessment/joint/", _plan_form(**changes))
        assert response.status_code == 400, changes
        assert said in _messages(response), (changes, _messages(response))
    assert not JointPlan.objects.exists()
    client.force_login(county.users["editor_a"])
    assert client.post("/assessment/joint/", _plan_form()).status_code == 403
    assert 'id="plan-form"' not in client.get("/assessment/joint/").content.decode()
    assert not JointPlan.objects.exists()


PROVINCIAL = """\
code: SJST
version: "2026"
name: 省级生态园林城市测试体系
status: sample
sources: [测试]
nodes:
  - code: A
    name: 绿化
    points: 100
    children:
      - {code: A1, name: 城区绿化覆盖率, points: 100, unit: "%", range: [0, 100], department: 市园林局,
         rule: {type: threshold, target: 41}}
"""


def test_proposals_are_confirmed_and_extend_the_dictionary(county, campaigns):
    from chengzhen.assessment import services as framework_services
    from chengzhen.assessment.framework import load_framework

    sup = county.users["supervisor"]
    framework_services.import_framework(sup, load_framework(PROVINCIAL))
    services.bind_campaign(sup, _programme(county, "SJST2026", "省级生态园林城市创建"), "SJST", "省级生态园林城市")
    codes = ["WSCS2026", "YLCS2026", "SJST2026"]
    plan = services.run_plan(sup, code="LC-2026", name="合并", campaign_codes=codes, subject_code="411300",
                             year=2026)
    # 城区绿化覆盖率 is not in the dictionary: a row of its own, and the matcher's proposal to confirm
    assert plan.indicators.filter(key="SJST:A1").exists()
    match = MeasureMatch.objects.get(framework__code="SJST", node="A1", status=MatchStatus.PROPOSED)
    assert match.measure == "green_coverage_rate" and match.score >= 0.85 and match.evidence
    with pytest.raises(StaleEdit):
        services.decide_match(sup, match, confirm=True, expected_version=match.version - 1)
    services.decide_match(sup, match, confirm=True, expected_version=match.version)
    match.refresh_from_db()
    assert match.decided_by == sup and match.decided_at is not None
    assert (match.indicator_name, match.indicator_unit, match.measure) in services.confirmed_matches()
    # merging again, previewed: the leaf leaves its own row for the measure, whose binding rises; nothing written
    before = list(plan.indicators.values_list("key", "binding", "version"))
    changes = {c.key: c for c in services.rerun_preview(sup, plan)}
    assert changes["SJST:A1"].action == "removed"
    assert changes["green_coverage_rate"].action == "changed"
    assert any(line.startswith("执行标准：") and line.endswith("→ ≥ 41%")
               for line in changes["green_coverage_rate"].changes)
    assert {c.action for k, c in changes.items() if k not in ("SJST:A1", "green_coverage_rate")} <= {"same", "changed"}
    out = io.StringIO()
    call_command("joint", "rerun", "LC-2026", "--preview", "--as", "supervisor", stdout=out)
    assert "移除\tSJST:A1\t" in out.getvalue() and "预览：新增 0，变化 " in out.getvalue()
    assert list(plan.indicators.values_list("key", "binding", "version")) == before
    with pytest.raises(PermissionDenied):
        services.rerun_preview(county.users["editor_a"], plan)
    call_command("joint", "rerun", "LC-2026", "--as", "supervisor", stdout=io.StringIO())
    assert {c.action for c in services.rerun_preview(sup, plan)} == {"same"}  # merged: nothing left to change
    merged = plan.indicators.get(key="green_coverage_rate")
    assert any(s["framework"] == "SJST" and s["node"] == "A1" for s in merged.sources)
    assert merged.binding == "≥ 41%"  # the provincial 41% is now the strictest
    assert not plan.indicators.filter(key="SJST:A1").exists()


def test_tasks_go_into_the_ledger_and_people_s_edits_are_kept(county, campaigns):
    from chengzhen.ledger import services as ledger
    from chengzhen.ledger.models import Task

    sup = county.users["supervisor"]
    plan = services.run_plan(sup, code="LC-2026", name="合并", campaign_codes=list(campaigns), subject_code="411300",
                             year=2026)
    target = _programme(county, "LC2026", "2026年创建工作台账")
    preview = services.task_preview(county.users["supervisor"], plan, target)
    creates = [s for s in preview if s.action == "create"]
    assert creates and not Task.objects.filter(programme=target).exists()  # a preview writes nothing
    services.make_tasks(sup, plan, target)
    green = plan.indicators.get(key="green_coverage_rate")
    task = Task.objects.get(programme=target, code="LC-green_coverage_rate")
    assert task.lead_unit.short_name == "市园林局" and task.due_date == dt.date(2027, 6, 30)
    assert green.binding in task.requirement and "就高不就低" in task.requirement
    served = set(CampaignIndicatorTask.objects.filter(task=task).values_list("campaign__title", "node"))
    assert {c for c, _n in served} >= {"国家卫生城市", "国家园林城市"}
    # a person edits the task: making tasks again leaves it; an untouched one stays as it is
    ledger.update_task(sup, task, expected_version=task.version, name="建成区绿化覆盖率提升（园林局）")
    again = {s.indicator.key: s for s in services.task_preview(county.users["supervisor"], plan, target)}
    assert again["green_coverage_rate"].action == "keep" and "修改" in again["green_coverage_rate"].reason
    services.make_tasks(sup, plan, target)
    assert Task.objects.get(pk=task.pk).name == "建成区绿化覆盖率提升（园林局）"
    assert Task.objects.filter(programme=target).count() == len(creates)
    # a town may not make tasks
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.make_tasks(county.users["editor_a"], plan, target)


def test_tasks_per_lead_unit_hold_each_unit_s_indicators(county, campaigns):
    """职责归口、统筹推进: one task per lead unit, its requirement listing every indicator's binding
    target, linked to every campaign indicator of them; a settlement moves an indicator (and its
    links) to its new unit's task; people's edits are kept; a wrong way is refused."""
    from chengzhen.ledger import services as ledger
    from chengzhen.ledger.models import Task

    sup = county.users["supervisor"]
    plan = services.run_plan(sup, code="LC-2026", name="合并", campaign_codes=list(campaigns), subject_code="411300",
                             year=2026)
    target = _programme(county, "LC2026", "2026年创建工作台账")
    led = plan.indicators.exclude(lead_unit=None).select_related("lead_unit")
    units = {i.lead_unit for i in led}
    steps = services.task_preview(sup, plan, target, per="lead_unit")
    groups = [s for s in steps if s.members]
    assert len(groups) == len(units) > 1 and {s.action for s in groups} == {"create"}
    assert sum(len(s.members) for s in groups) == led.count()
    services.make_tasks(sup, plan, target, per="lead_unit")
    assert Task.objects.filter(programme=target).count() == len(units)
    green = plan.indicators.get(key="green_coverage_rate")
    task = Task.objects.get(programme=target, code=f"LC-G-{green.lead_unit.code}")
    members = [i for i in led if i.lead_unit_id == green.lead_unit_id]
    assert task.lead_unit == green.lead_unit and f"（{len(members)} 项）" in task.name
    for ind in members:
        assert f"{ind.name}：执行标准 {ind.binding or '定性要求'}" in task.requirement
    assert task.due_date == min(i.deadline for i in members if i.deadline)
    served = set(CampaignIndicatorTask.objects.filter(task=task).values_list("campaign__title", "node"))
    assert served == {(s["campaign"], s["node"]) for i in members for s in i.sources}
    assert set(task.cooperations.values_list("unit__code", flat=True)) == (
        {c for i in members for c in i.cooperating} - {task.lead_unit.code})
    # green settled to another unit: it moves to that unit's task, with its links
    other = next(u for u in units if u != green.lead_unit)
    services.settle_lead(sup, green, lead_unit=other, cooperating=[], expected_version=green.version)
    services.make_tasks(sup, plan, target, per="lead_unit")
    moved = Task.objects.get(programme=target, code=f"LC-G-{other.code}")
    assert "建成区绿化覆盖率：执行标准" in moved.requirement and "建成区绿化覆盖率" not in Task.objects.get(
        pk=task.pk).requirement
    green_nodes = {(s["campaign"], s["node"]) for s in green.sources}
    assert green_nodes <= set(CampaignIndicatorTask.objects.filter(task=moved).values_list("campaign__title", "node"))
    assert not green_nodes & set(CampaignIndicatorTask.objects.filter(task=task).values_list("campaign__title", "node"))
    # a person edits a group's task: it is kept from then on
    task = Task.objects.get(pk=moved.pk)
    ledger.update_task(sup, task, expected_version=task.version, name="园林绿化指标（统筹）")
    again = {s.key: s for s in services.task_preview(sup, plan, target, per="lead_unit")}
    assert again[moved.code].action == "keep" and "修改" in again[moved.code].reason
    services.make_tasks(sup, plan, target, per="lead_unit")
    assert Task.objects.get(pk=moved.pk).name == "园林绿化指标（统筹）"
    # one task per indicator in the same programme: new tasks of their own, the group tasks untouched
    single = services.task_preview(sup, plan, target)
    assert {s.action for s in single if s.action != "skip"} == {"create"}
    assert all(s.code.startswith("LC-") and not s.code.startswith("LC-G-") for s in single if s.action != "skip")
    # and back: each indicator's record now names its group's task, so a same-code task is not overwritten
    services.make_tasks(sup, plan, target)
    single_task = Task.objects.get(programme=target, code="LC-green_coverage_rate")
    services.make_tasks(sup, plan, target, per="lead_unit")
    ledger.update_task(sup, single_task, expected_version=single_task.version, name="绿化覆盖率（人工改过）")
    again = {s.key: s for s in services.task_preview(sup, plan, target)}
    assert again["green_coverage_rate"].action == "keep" and "不覆盖" in again["green_coverage_rate"].reason
    services.make_tasks(sup, plan, target)
    assert Task.objects.get(pk=single_task.pk).name == "绿化覆盖率（人工改过）"
    with pytest.raises(Refused, match="per"):
        services.task_preview(sup, plan, target, per="category")


def test_one_value_fans_out_to_the_other_campaigns_round(county, campaigns):
    sup = county.users["supervisor"]
    gov = county.units["gov"]
    services.run_plan(sup, code="LC-2026", name="合并", campaign_codes=list(campaigns), subject_code="411300",
                      year=2026)
    made = {}
    for code, fw in (("WSCS-R", "WSCS"), ("YLCS-R", "YLCS")):
        made[code] = rounds.create_round(sup, code=code, name=f"{fw} 2026", framework_name=fw, unit_codes=["411300"],
                                         year=2026, period_from=dt.date(2026, 1, 1), period_to=dt.date(2026, 12, 31),
                                         submit_by=dt.date(2026, 12, 31))
    wscs_fw, ylcs_fw = rounds.framework(made["WSCS-R"]), rounds.framework(made["YLCS-R"])
    single = {n.code: n for n in wscs_fw.leaves() if [i.code for i in n.inputs] == ["value"] and not n.measure}
    ylcs_single = {n.code: n for n in ylcs_fw.leaves() if [i.code for i in n.inputs] == ["value"]}
    # a merged indicator both campaigns measure by one value (建成区绿地率 in both, say)
    shared = next(ind for ind in MergedIndicator.objects.filter(plan__code="LC-2026")
                  if any(s["framework"] == "WSCS" and s["node"] in single for s in ind.sources)
                  and any(s["framework"] == "YLCS" and s["node"] in ylcs_single for s in ind.sources))
    w_node = single[next(s["node"] for s in shared.sources if s["framework"] == "WSCS")]
    y_node = ylcs_single[next(s["node"] for s in shared.sources if s["framework"] == "YLCS")]
    v = rounds.submit_value(county.users["admin"], made["WSCS-R"], gov, w_node.code, "value", "38.5")
    rounds.verify_value(sup, v, accept=True, expected_version=v.version)
    copied = Value.objects.get(round=made["YLCS-R"], subject=gov, node=y_node.code)
    assert copied.amount == Decimal("38.5") and copied.status == ValueStatus.SUBMITTED
    assert copied.source == "platform" and "WSCS 2026" in copied.derivation
    # a value a person gave there is left alone
    Value.objects.filter(pk=copied.pk).update(source="person", amount="40")
    v = rounds.submit_value(county.users["admin"], made["WSCS-R"], gov, w_node.code, "value", "39")
    rounds.verify_value(sup, Value.objects.get(pk=v.pk), accept=True, expected_version=v.version)
    assert Value.objects.get(pk=copied.pk).amount == Decimal("40")


def test_the_command_binds_plans_and_makes_tasks(county, campaigns):
    out = io.StringIO()
    call_command("joint", "plan", "LC-2026", "--name", "合并", "--campaigns", "WSCS2026,YLCS2026",
                 "--subject", "411300", "--year", "2026", "--as", "supervisor", stdout=out)
    assert out.getvalue().startswith("已合并 LC-2026：合并指标 ")
    _programme(county, "LC2026", "台账")
    out = io.StringIO()
    call_command("joint", "tasks", "LC-2026", "--programme", "LC2026", "--preview", "--as", "supervisor", stdout=out)
    assert "预览：新建 " in out.getvalue()
    out = io.StringIO()
    call_command("joint", "tasks", "LC-2026", "--programme", "LC2026", "--per", "lead_unit", "--as", "supervisor",
                 stdout=out)
    made = [line.split("\t") for line in out.getvalue().splitlines() if line.startswith("新建\t")]
    assert made and all(code.startswith("LC-G-") for _a, code, *_r in made)
    assert Programme.objects.get(code="LC2026").tasks.count() == len(made)
    with pytest.raises(Exception, match="已拒绝"):
        call_command("joint", "plan", "LC-2027", "--name", "x", "--campaigns", "NOPE", "--as", "supervisor",
                     stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(Refused):
        services.campaign_of("NOPE")
