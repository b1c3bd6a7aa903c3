"""The studies API through the real API client, the real database, real files and the real job (the
task function called as the worker calls it, as test_studies does): listing and reading restricted by
the Study rules (another area's unpublished study is 404, its run and files too); a study created
from uploaded files with each input's name, size and SHA-256 but never its stored path; bad input
400 naming the field and nothing stored; a town person refused (403) for another town; a run queued
(202, the job), then its outputs listed and downloaded; publishing with If-Match (428, 412, 200);
coverage submitted to a round; the schema documents the endpoints without a warning."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from chengzhen.lifecircle import studies
from chengzhen.lifecircle.jobs import run_study_job
from chengzhen.lifecircle.models import Study, StudyStatus
from chengzhen.lifecircle.tests import test_studies
from chengzhen.lifecircle.tests.test_studies import _create, _csv, _files, _run, _sha
from chengzhen.lifecircle.tests.test_submit import _round
from chengzhen.lifecircle.views import StudyForm

inputs = test_studies.inputs  # the street grid, facilities, homes, two towns' areas, candidates


def _upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def _form(county, inputs: Path, **change) -> dict:
    """The multipart body of a new study: the page form's fields, the files uploaded."""
    data = {"code": "QS-API", "name": "青山镇生活圈（接口）", "area_unit": county.units["town_a"].code,
            "preset": "gb50180-2018", "crs": "GCJ-02", "snap": "node", "max_snap": "500",
            **{role: _upload(path) for role, path in _files(inputs).items()}}
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def _nothing_stored(settings) -> None:
    assert not Study.objects.exists()
    root = Path(settings.MEDIA_ROOT) / "lifecircle"
    assert not root.exists() or not any(root.iterdir())


def _fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_created_from_uploads_run_and_downloaded(api_as, county, inputs, settings):
    from chengzhen.documents.models import Job

    sup = api_as("supervisor")
    form = _form(county, inputs, siting_type="幼儿园", siting_k="2", siting_circle="5", siting_method="exact",
                 candidates=_upload(inputs / "c.csv"))
    created = sup.post("/api/studies/", form, format="multipart")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert created["ETag"] == '"1"' and created["Location"] == "/api/studies/QS-API/"
    assert (body["code"], body["area_unit"], body["preset"], body["status"]) == (
        "QS-API", county.units["town_a"].code, "gb50180-2018", "draft")
    assert body["options"]["snap"] == "node" and body["options"]["crs"] == "GCJ-02"
    assert body["options"]["siting"] == {"type": "kindergarten", "k": 2, "circle": 5, "radius": None,
                                         "method": "exact", "time_limit": 60.0}
    sources = {**_files(inputs), "candidates": inputs / "c.csv"}
    assert set(body["inputs"]) == set(sources)
    for role, source in sources.items():
        assert body["inputs"][role] == {"name": source.name, "size": source.stat().st_size, "sha256": _sha(source)}
    assert "stored" not in json.dumps(body) and Study.objects.get().folder not in json.dumps(body)
    assert body["outputs"] == [] and body["runs"] == 0 and body["ran_by"] is None and body["stale"] is False

    # the run: queued (202, the job), refused while queued, then done by the worker
    queued = sup.post("/api/studies/QS-API/run/")
    assert queued.status_code == 202
    job = Job.objects.get(pk=queued.json()["job"])
    assert job.kind == studies.JOB_KIND and job.params["code"] == "QS-API"
    assert queued.json()["study"]["status"] == "queued"
    again = sup.post("/api/studies/QS-API/run/")
    assert again.status_code == 400 and "正在测算" in again.json()["detail"]
    run_study_job.call(job.pk)  # what the worker does, here in the test's process
    read = sup.get("/api/studies/QS-API/")
    study = Study.objects.get()
    d = read.json()
    assert read["ETag"] == f'"{study.version}"' and d["version"] == study.version
    assert (d["status"], d["runs"], d["ran_by"], d["error"]) == ("done", 1, "supervisor", "")
    assert d["summary"]["homes"] == 40 and d["summary"]["siting"]["k"] == 2
    listed = {o["name"]: o for o in d["outputs"]}
    assert [(o["name"], o["size"]) for o in d["outputs"]] == studies.outputs(study)
    assert {"homes.csv", "coverage.csv", "coverage.xlsx", "roads.geojson", "siting/sites.csv"} <= set(listed)
    folder = study.results_path
    for name in ("coverage.csv", "siting/sites.csv"):
        url = listed[name]["url"]
        assert url == f"/api/studies/QS-API/files/{name}/"
        got = sup.get(url)
        assert got.status_code == 200 and got["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in got["Content-Disposition"]
        assert _content(got) == (folder / name).read_bytes()
        bare = sup.get(url.removesuffix("/"))  # the same file without the trailing slash
        assert bare.status_code == 200 and _content(bare) == (folder / name).read_bytes()
    # only the names the run wrote: nothing from the inputs, nothing hidden
    for bad in ("../inputs/homes/h.csv", "siting/../homes.csv", ".map/homes-features.geojson", "nothing.csv",
                "../../../../etc/passwd"):
        for url in (f"/api/studies/QS-API/files/{bad}/", f"/api/studies/QS-API/files/{bad}"):
            missing = sup.get(url)
            assert missing.status_code == 404 and missing.json()["detail"], url


def test_the_listing_and_the_study_are_those_the_person_may_read(api_as, county, inputs):
    _create(county, inputs, user="editor_a", code="QS-2026", area="town_a")
    _create(county, inputs, user="editor_a", code="QSC-2026", area="village_a")
    b = _run(county, _create(county, inputs, user="editor_b", code="BH-2026", area="town_b"), user="editor_b")

    def listed(user: str) -> set[str]:
        response = api_as(user).get("/api/studies/")
        assert response.status_code == 200
        page = response.json()
        assert page["count"] == len(page["results"]) and "outputs" not in page["results"][0]
        return {s["code"] for s in page["results"]}

    assert listed("editor_a") == {"QS-2026", "QSC-2026"}
    assert listed("editor_b") == {"BH-2026"}
    assert listed("supervisor") == listed("leader") == {"QS-2026", "QSC-2026", "BH-2026"}
    editor_a = api_as("editor_a")
    urls = ["/api/studies/BH-2026/", "/api/studies/BH-2026/files/homes.csv/"]
    assert [editor_a.get(u).status_code for u in urls] == [404, 404]
    assert editor_a.post("/api/studies/BH-2026/run/").status_code == 404
    assert editor_a.post("/api/studies/BH-2026/publish/", {"published": True}, format="json",
                         HTTP_IF_MATCH=f'"{b.version}"').status_code == 404
    assert editor_a.get("/api/studies/NOPE/").status_code == 404
    assert editor_a.get("/api/studies/bad%00code/").status_code == 404
    assert [api_as("editor_b").get(u).status_code for u in urls] == [200, 200]

    # published: every holder of a role reads it; only its own area's people run it
    studies.publish_study(county.users["editor_b"], b)
    assert listed("editor_a") == {"QS-2026", "QSC-2026", "BH-2026"}
    assert [editor_a.get(u).status_code for u in urls] == [200, 200]
    refused = editor_a.post("/api/studies/BH-2026/run/")
    assert refused.status_code == 403 and "无权测算" in refused.json()["detail"]
    assert Study.objects.get(pk=b.pk).status == StudyStatus.DONE


@pytest.mark.parametrize("change,field,said", [
    ({"network": None}, "network", ""),
    ({"area_unit": "999999"}, "area_unit", "没有代码为 999999 的单位"),
    ({"network": "路网.txt"}, "network", "路网文件的类型不受支持"),
    ({"homes": "empty.csv"}, "homes", "住宅文件是空的"),
    ({"code": "qs api"}, "code", "研究代码以大写字母或数字开头"),
    ({"preset": "nothing"}, "preset", "没有预设 nothing"),
    ({"snap": "nearest"}, "snap", ""),
    ({"max_snap": "-5"}, "max_snap", "应为正数"),
    ({"crs": "EPSG:0"}, "crs", ""),
    ({"candidates": "c.csv"}, "siting", "上传了候选点"),
])
def test_bad_input_is_400_naming_the_field_and_stores_nothing(api_as, county, inputs, settings, change, field, said):
    (inputs / "路网.txt").write_text((inputs / "net.geojson").read_text(encoding="utf-8"), encoding="utf-8")
    (inputs / "empty.csv").write_bytes(b"")
    files = {k: _upload(inputs / v) for k, v in change.items() if k in StudyForm.FILES and v}
    response = api_as("supervisor").post("/api/studies/", _form(county, inputs, **{**change, **files}),
                                         format="multipart")
    assert response.status_code == 400, response.content
    errors = _fields(response)
    assert field in errors and said in errors[field], errors
    _nothing_stored(settings)


def test_a_town_person_may_not_create_for_another_town(api_as, county, inputs, settings):
    refused = api_as("editor_a").post("/api/studies/", _form(county, inputs, area_unit=county.units["town_b"].code),
                                      format="multipart")
    assert refused.status_code == 403 and "无权为 白河镇人民政府 创建" in refused.json()["detail"]
    refused = api_as("leader").post("/api/studies/", _form(county, inputs), format="multipart")
    assert refused.status_code == 403
    _nothing_stored(settings)
    own = api_as("editor_a").post("/api/studies/", _form(county, inputs), format="multipart")
    assert own.status_code == 201 and Study.objects.get().created_by == county.users["editor_a"]


def test_publish_takes_if_match(api_as, county, inputs):
    sup = api_as("supervisor")
    draft = _create(county, inputs)
    url = f"/api/studies/{draft.code}/publish/"
    early = sup.post(url, {"published": True}, format="json", HTTP_IF_MATCH=f'"{draft.version}"')
    assert early.status_code == 400 and "尚未测算完成" in early.json()["detail"]
    study = _run(county, draft)
    etag = sup.get(f"/api/studies/{study.code}/")["ETag"]
    assert sup.post(url, {"published": True}, format="json").status_code == 428
    assert sup.post(url, {"published": True}, format="json", HTTP_IF_MATCH='"99"').status_code == 412
    assert sup.post(url, {"published": True}, format="json", HTTP_IF_MATCH="nonsense").status_code == 412
    assert not Study.objects.get(pk=study.pk).published
    done = sup.post(url, {"published": True}, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 200 and done.json()["published"] is True
    assert done["ETag"] == f'"{Study.objects.get(pk=study.pk).version}"' != etag
    stale = sup.post(url, {"published": False}, format="json", HTTP_IF_MATCH=etag)  # the ETag read before
    assert stale.status_code == 412 and Study.objects.get(pk=study.pk).published
    withdrawn = sup.post(url, {"published": False}, format="json", HTTP_IF_MATCH=done["ETag"])
    assert withdrawn.status_code == 200 and withdrawn.json()["published"] is False
    # a town person reading a published study may not withdraw it
    sup.post(url, {"published": True}, format="json", HTTP_IF_MATCH=withdrawn["ETag"])
    current = Study.objects.get(pk=study.pk)
    refused = api_as("editor_b").post(url, {"published": False}, format="json",
                                      HTTP_IF_MATCH=f'"{current.version}"')
    assert refused.status_code == 403 and Study.objects.get(pk=study.pk).published


def test_coverage_submitted_to_a_round(api_as, county, inputs):
    from chengzhen.assessment.models import Value

    study = _run(county, _create(county, inputs))
    _round(county)
    sup = api_as("supervisor")
    url = f"/api/studies/{study.code}/submit/"
    body = {"round": "LC-2026", "indicator": "S1", "type": "kindergarten", "circle": "5"}
    done = sup.post(url, body, format="json")
    assert done.status_code == 200, done.json()
    d = done.json()
    cov = {r["area"]: r["rate"] for r in _csv(study.results_path / "coverage.csv")
           if r["type"] == "kindergarten" and r["circle"] == "5"}
    expected = {county.units[k].code: (Decimal(cov[town]) * 100).quantize(Decimal("0.01"))
                for k, town in (("town_a", "青山镇"), ("town_b", "白河镇"))}
    assert {v["subject"]: Decimal(v["amount"]) for v in d["values"]} == expected
    assert all(v["round"] == "LC-2026" and v["node"] == "S1" and v["unit"] == "%" for v in d["values"])
    assert sorted(d["files"]) == ["coverage.xlsx", "map_kindergarten.png"]
    assert {v.subject.code: v.amount for v in Value.objects.select_related("subject")} == expected

    # refusals: the field named, or the reason; nothing more written
    unknown = sup.post(url, {**body, "round": "NOPE"}, format="json")
    assert unknown.status_code == 400 and "round" in _fields(unknown)
    assert sup.post(url, {**body, "indicator": ""}, format="json").status_code == 400
    # an area mapped to a unit that is not the round's subject: refused naming it
    wrong = sup.post(url, {**body, "areas_map": {"青山镇": county.units["dept"].code}}, format="json")
    assert wrong.status_code == 400 and "不是考核轮次 LC-2026 的考核对象" in wrong.json()["detail"]
    no_circle = sup.post(url, {**body, "circle": "15"}, format="json")
    assert no_circle.status_code == 400 and "15" in no_circle.json()["detail"]
    studies.publish_study(county.users["supervisor"], study)
    other_town = api_as("editor_b").post(url, body, format="json")
    assert other_town.status_code == 403 and "无权填报" in other_town.json()["detail"]
    assert Value.objects.count() == 2 and Value.objects.filter(version__gt=1).count() == 0
    draft = _create(county, inputs, code="QS-DRAFT")
    early = sup.post(f"/api/studies/{draft.code}/submit/", body, format="json")
    assert early.status_code == 400 and "没有测算成果" in early.json()["detail"]


def test_the_schema_documents_the_study_endpoints(api_as, tmp_path):
    schema = api_as("editor_a").get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/studies/", "/api/studies/{code}/", "/api/studies/{code}/run/", "/api/studies/{code}/publish/",
                 "/api/studies/{code}/submit/", "/api/studies/{code}/files/{name}/"):
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/studies/"]["post"]["requestBody"]["content"]
    assert "202" in paths["/api/studies/{code}/run/"]["post"]["responses"]
    assert {"200", "412", "428"} <= set(paths["/api/studies/{code}/publish/"]["post"]["responses"])
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
