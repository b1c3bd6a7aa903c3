"""Import page: preview, apply, refusal of a stale preview; export of the filtered list."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from chengzhen.ledger.models import Task

HEADER = ["任务编号", "任务名称", "牵头单位", "开始时间", "完成时限"]


def sheet(rows) -> io.BytesIO:
    wb = Workbook()
    wb.active.title = "台账"
    wb.active.append(HEADER)
    for r in rows:
        wb.active.append(r)
    data = io.BytesIO()
    wb.save(data)
    data.seek(0)
    data.name = "台账.xlsx"
    return data


def upload(client, rows, programme="ZDZ2026"):
    return client.post("/ledger/import/", {"programme": programme, "file": sheet(rows)})


def test_preview_then_apply(county, make_task, client):
    make_task("A1", name="旧名称")
    client.force_login(county.users["supervisor"])
    preview = upload(client, [["A1", "新名称", "青山镇", "2026-01-01", "2026-12-31"],
                              ["A2", "新任务", "白河镇", "2026-02-01", "2026-08-31"]])
    page = preview.content.decode()
    assert "修改" in page and "任务名称：旧名称 → 新名称" in page and "新增" in page
    assert Task.objects.count() == 1  # a preview writes nothing
    token = client.session["ledger_import"]["token"]
    applied = client.post("/ledger/import/apply/", {"token": token}, follow=True)
    assert "新增 1 项，修改 1 项" in applied.content.decode()
    assert sorted(Task.objects.values_list("code", "name")) == [("A1", "新名称"), ("A2", "新任务")]


def test_apply_refused_when_a_previewed_task_changed(county, make_task, client):
    task = make_task("A1")
    client.force_login(county.users["supervisor"])
    upload(client, [["A1", "预览的名称", "青山镇", "2026-01-01", "2026-12-31"]])
    task.notes = "别人在预览后改了"
    task.save()
    token = client.session["ledger_import"]["token"]
    response = client.post("/ledger/import/apply/", {"token": token}, follow=True)
    assert "在预览后已被修改（预览时第 1 版，现为第 2 版）" in response.content.decode()
    assert Task.objects.get().name == "任务A1"


def test_refused_file_lists_problems(county, client):
    client.force_login(county.users["supervisor"])
    page = upload(client, [["A1", "x", "火星", "2026-01-01", "下个月底"]]).content.decode()
    assert "台账.xlsx:台账:2:牵头单位: 未知单位" in page
    assert "台账.xlsx:台账:2:完成时限: 无法识别的日期" in page
    assert "ledger_import" not in client.session


def test_leader_cannot_open_the_import_page(county, client):
    client.force_login(county.users["leader"])
    assert client.get("/ledger/import/").status_code == 403


def test_export_of_the_filtered_list(county, make_task, client):
    make_task("A1", category="基础设施")
    make_task("A2", category="公共服务")
    make_task("B1", lead="town_b", category="基础设施")
    client.force_login(county.users["editor_a"])
    response = client.get("/ledger/export/?category=基础设施")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    codes = [wb.active.cell(r, 2).value for r in range(5, wb.active.max_row + 1)]
    assert codes == ["A1"]  # B1 is another town's; A2 another category
