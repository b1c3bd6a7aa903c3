"""Life-circle studies in the platform, through real files, the real database and the real job
(the task function called as the worker calls it): a study created from uploads keeps each input's
SHA-256, its run writes the same homes.csv as ``lifecircle run`` on the same files plus the sites and
the map's roads, one audit record per run and none for the progress; the Study rules (a town sees its
own area's studies and published ones, runs only its own area's) on the services, the pages, the map
layers and the downloads; bad input (a wrong extension, an empty file, a refused run: status failed
with the library's reason naming the person's file, no folder left, earlier results kept); the map's
homes layer equal to homes.csv (Features and, for many homes, arrays); coverage submitted to a round
from the page; the English page."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from chengzhen.lifecircle import maplayers, studies
from chengzhen.lifecircle.jobs import run_study_job
from chengzhen.lifecircle.models import Study, StudyStatus
from chengzhen.lifecircle.tests.test_run import LAT0, LON0, _grid, _tables
from chengzhen.lifecircle.tests.test_site_run import _candidates
from chengzhen.lifecircle.tests.test_submit import _round, _town_areas
from chengzhen.problems import Refused

TYPES = ("kindergarten", "primary_school")


@pytest.fixture
def inputs(tmp_path) -> Path:
    """The street grid (GeoJSON), facilities and homes (CSV, GCJ-02), the two towns' areas and
    candidate sites: the test_run / test_site_run builders."""
    base = tmp_path / "in"
    base.mkdir()
    _grid(base / "net.geojson")
    _tables(base)
    _town_areas(base / "areas.geojson")
    _candidates(base)
    return base


def _files(inputs: Path, *, sites: bool = False) -> dict:
    files = {"network": inputs / "net.geojson", "facilities": inputs / "f.csv", "homes": inputs / "h.csv",
             "areas": inputs / "areas.geojson"}
    if sites:
        files["candidates"] = inputs / "c.csv"
    return files


def _create(county, inputs, *, user="supervisor", code="QS-2026", area="town_a", sites=False, **extra) -> Study:
    options = {"crs": "GCJ-02", "snap": "node"}
    if sites:
        options["siting"] = {"type": "幼儿园", "k": "2", "circle": "5", "method": "exact"}
    return studies.create_study(county.users[user], code=code, name=f"{code} 生活圈研究", area_unit=county.units[area],
                                preset="gb50180-2018", files=extra.pop("files", None) or _files(inputs, sites=sites),
                                options=extra.pop("options", options), **extra)


def _run(county, study: Study, user="supervisor") -> Study:
    job = studies.run_study(county.users[user], study)
    assert Study.objects.get(pk=study.pk).status == StudyStatus.QUEUED
    run_study_job.call(job.pk)  # what the worker does, here in the test's process
    study.refresh_from_db()
    return study


def _csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _body(response) -> dict:
    """A layer's GeoJSON (served from a file, or built for the request)."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(raw)


def _records(action: str):
    from chengzhen.audit.models import AuditRecord

    return [json.loads(r.content) for r in AuditRecord.objects.filter(action=action).order_by("seq")]


def test_a_study_is_stored_run_by_the_job_and_audited_once_per_run(county, inputs, settings, tmp_path):
    from chengzhen.audit.models import AuditRecord
    from chengzhen.documents.models import Job
    from chengzhen.lifecircle.run import run

    study = _create(county, inputs, sites=True)
    for role, source in _files(inputs, sites=True).items():
        entry = study.inputs[role]
        assert entry["name"] == source.name and entry["size"] == source.stat().st_size
        assert entry["sha256"] == _sha(source) == _sha(study.input_path(role))
        assert study.input_path(role).is_relative_to(Path(settings.MEDIA_ROOT) / "lifecircle" / study.folder)
    assert study.options["siting"] == {"type": "kindergarten", "k": 2, "circle": 5, "radius": None,
                                       "method": "exact", "time_limit": 60.0}
    created = AuditRecord.objects.get(model="lifecircle.study", action="create")
    assert json.loads(created.content)["after"]["inputs"]["homes"]["sha256"] == _sha(inputs / "h.csv")

    study = _run(county, study)
    assert study.status == StudyStatus.DONE and study.error == "" and study.runs == 1
    assert study.ran_by == county.users["supervisor"] and study.version == 1  # the run is not an edit
    assert Job.objects.get(pk=study.job_id).status == Job.Status.DONE
    folder = study.results_path
    assert folder == study.base / "runs" / "1"
    # the job's homes.csv is what run.run writes for the same files
    direct = run(network=str(inputs / "net.geojson"), facilities=str(inputs / "f.csv"), homes=str(inputs / "h.csv"),
                 crs="GCJ-02", preset="gb50180-2018", snap="node", areas=str(inputs / "areas.geojson"),
                 output=tmp_path / "direct", maps=False, progress=lambda text: None)
    assert _csv(folder / "homes.csv") == _csv(direct.folder / "homes.csv")
    assert (folder / "coverage.csv").read_bytes() == (direct.folder / "coverage.csv").read_bytes()
    names = dict(studies.outputs(study))
    assert {"homes.csv", "coverage.csv", "coverage.xlsx", "lifecircle.gpkg", "roads.geojson", "map_kindergarten.png",
            "siting/sites.csv", "siting/sites.gpkg", "siting/summary.json"} <= set(names)
    assert (folder / ".map" / "homes-features.geojson").is_file() and not [n for n in names if n.startswith(".")]
    s = study.summary
    assert s["homes"] == 40 and s["types"] == list(TYPES) and [c["minutes"] for c in s["circles"]] == [5, 10, 15]
    assert s["labels"] == {"kindergarten": "幼儿园", "primary_school": "小学"}
    cov = {(r["area"], r["type"], r["circle"]): r for r in _csv(folder / "coverage.csv")}
    assert s["all_required"]["5"] == pytest.approx(float(cov[("全部", "all_required", "5")]["rate"]))
    sited = json.loads((folder / "siting" / "summary.json").read_text(encoding="utf-8"))
    assert s["siting"]["objective"] == pytest.approx(sited["objective"]) and s["siting"]["k"] == 2
    assert [r["site_id"] for r in _csv(folder / "siting" / "sites.csv")] == s["siting"]["sites"]
    roads = json.loads((folder / "roads.geojson").read_text(encoding="utf-8"))
    assert len(roads["features"]) == 16  # the grid's 8 + 8 streets
    assert not [p for p in (study.base / "runs").iterdir() if p.name.startswith(".")]
    (event,) = _records("run_study")
    d = event["detail"]
    assert event["model"] == "lifecircle.study" and event["pk"] == str(study.pk)
    assert d["status"] == "done" and d["inputs"]["network"]["sha256"] == _sha(inputs / "net.geojson")
    assert d["results"] == folder.relative_to(settings.MEDIA_ROOT).as_posix()
    assert event["actor"] == "supervisor" and event["source"].startswith(f"job:{study.job_id}")

    # a second run: a fresh folder replaces the first, one more record, the chain still verifies
    study = _run(county, study)
    assert study.results_path == study.base / "runs" / "2" and not (study.base / "runs" / "1").exists()
    assert len(_records("run_study")) == 2
    call_command("audit", "verify", stdout=io.StringIO())


def test_the_study_rules(county, inputs, client):
    a = _create(county, inputs, user="editor_a", code="QS-2026", area="town_a")
    b = _run(county, _create(county, inputs, user="editor_b", code="BH-2026", area="town_b"), user="editor_b")
    village = _create(county, inputs, user="editor_a", code="QSC-2026", area="village_a")  # below its own unit

    def seen(user):
        client.force_login(county.users[user])
        page = client.get("/lifecircle/")
        assert page.status_code == 200
        return {s.code for s in page.context["studies"]}

    assert seen("editor_a") == {"QS-2026", "QSC-2026"}
    assert seen("editor_b") == {"BH-2026"}
    assert seen("supervisor") == seen("leader") == seen("admin") == {"QS-2026", "QSC-2026", "BH-2026"}
    assert village.area_unit.parent == county.units["town_a"]
    with pytest.raises(PermissionDenied, match="无权为 白河镇人民政府 创建"):
        _create(county, inputs, user="editor_a", code="X-1", area="town_b")
    with pytest.raises(PermissionDenied, match="无权测算"):
        studies.run_study(county.users["editor_a"], b)
    with pytest.raises(PermissionDenied, match="无权创建|无权为"):
        _create(county, inputs, user="leader", code="X-2", area="town_a")
    assert not Study.objects.filter(code__startswith="X-").exists()

    # another town's unpublished study: its page, layers and files are not there for editor_a
    client.force_login(county.users["editor_a"])
    urls = [f"/lifecircle/{b.code}/", f"/lifecircle/{b.code}/layers/homes.geojson",
            f"/lifecircle/{b.code}/files/homes.csv"]
    assert [client.get(u).status_code for u in urls] == [404, 404, 404]
    assert client.post(f"/lifecircle/{b.code}/run/").status_code == 404
    client.force_login(county.users["editor_b"])
    assert [client.get(u).status_code for u in urls] == [200, 200, 200]
    assert client.get(f"/lifecircle/{a.code}/").status_code == 404

    # published: every holder of a role reads it; still only its own area's people run it
    studies.publish_study(county.users["editor_b"], b)
    client.force_login(county.users["editor_a"])
    assert [client.get(u).status_code for u in urls] == [200, 200, 200]
    page = client.get(urls[0]).content.decode()
    assert 'id="run-form"' not in page and 'id="publish-form"' not in page
    done = client.post(f"/lifecircle/{b.code}/run/", follow=True)
    assert "无权测算" in done.content.decode() and Study.objects.get(pk=b.pk).status == StudyStatus.DONE
    with pytest.raises(PermissionDenied):
        studies.publish_study(county.users["editor_a"], b, published=False)
    assert seen("editor_a") == {"QS-2026", "QSC-2026", "BH-2026"}
    assert len(_records("run_study")) == 1


@pytest.mark.parametrize("change,said", [
    ({"network": "net.txt"}, "net.txt:network: 路网文件的类型不受支持"),
    ({"network": "roads.shp"}, "Shapefile 请连同 .shx、.dbf、.prj 打包为 .zip 上传"),
    ({"homes": "empty.csv"}, "empty.csv:homes: 住宅文件是空的"),
    ({"homes": None}, "须上传住宅文件"),
    ({"candidates": "c.csv"}, "上传了候选点：请填写选址的设施类型和新址个数"),
])
def test_bad_uploads_are_refused_naming_the_file_and_store_nothing(county, inputs, settings, change, said):
    (inputs / "net.txt").write_text((inputs / "net.geojson").read_text())
    (inputs / "roads.shp").write_bytes(b"\x00\x00\x27\x0a" + b"\x00" * 96)
    (inputs / "empty.csv").write_bytes(b"")
    files = _files(inputs)
    for role, name in change.items():
        files[role] = inputs / name if name else None
    with pytest.raises(Refused) as refused:
        _create(county, inputs, files=files)
    assert said in str(refused.value)
    assert not Study.objects.exists()
    root = Path(settings.MEDIA_ROOT) / "lifecircle"
    assert not root.exists() or not any(root.iterdir())


def test_a_refused_run_fails_with_the_reason_and_leaves_no_folder(county, inputs):
    from chengzhen.lifecircle.crs import wgs84_to_gcj02

    far = inputs / "far"
    far.mkdir()
    lon, lat = wgs84_to_gcj02(np.array([LON0 + 0.3]), np.array([LAT0 + 0.3]))  # some 40 km away
    (far / "住宅.csv").write_text(f"home_id,lon,lat,户数\nH1,{lon[0]:.8f},{lat[0]:.8f},10\n", encoding="utf-8-sig")
    study = _run(county, _create(county, inputs, files={**_files(inputs), "homes": far / "住宅.csv"}))
    assert study.status == StudyStatus.FAILED and study.results == "" and study.summary == {}
    assert "住宅.csv: 路网与住宅不重叠" in study.error and str(study.base) not in study.error
    assert not any((study.base / "runs").iterdir())
    (event,) = _records("run_study")
    assert event["detail"]["status"] == "failed" and "路网与住宅不重叠" in event["detail"]["error"]

    # a good study whose stored input was changed afterwards: refused, the earlier results kept
    good = _run(county, _create(county, inputs, code="QS-2"))
    first = good.results_path
    stored = good.input_path("homes")
    stored.write_bytes(stored.read_bytes() + b"H99,120.15,30.28,1\n")
    good = _run(county, good)
    assert good.status == StudyStatus.FAILED and "h.csv: 输入文件与上传时不一致（SHA-256 不同）" in good.error
    assert good.results_path == first and (first / "homes.csv").is_file()
    assert sorted(p.name for p in (good.base / "runs").iterdir()) == ["1"]


def test_a_study_cannot_be_run_twice_at_once_nor_published_before_it_is_done(county, inputs, client):
    study = _create(county, inputs)
    with pytest.raises(Refused, match="尚未测算完成"):
        studies.publish_study(county.users["supervisor"], study)
    job = studies.run_study(county.users["supervisor"], study)
    with pytest.raises(Refused, match="正在测算"):
        studies.run_study(county.users["supervisor"], study)
    # a worker that died: its job silent for longer than CHENGZHEN_STUDY_STALE_MINUTES, the study may run again
    import datetime as dt

    from chengzhen.documents.models import Job

    Job.objects.filter(pk=job.pk).update(updated_at=job.updated_at - dt.timedelta(minutes=31))
    study.refresh_from_db()
    assert studies.is_stale(study)
    client.force_login(county.users["supervisor"])
    page = client.get(f"/lifecircle/{study.code}/").content.decode()
    assert 'id="study-stale"' in page and 'id="run-form"' in page and 'http-equiv="refresh"' not in page
    again = studies.run_study(county.users["supervisor"], study)
    assert again.pk != job.pk


@pytest.fixture
def done(county, inputs) -> Study:
    return _run(county, _create(county, inputs, sites=True))


def test_the_map_layers_are_the_run_s_figures(done, client, county, monkeypatch):
    client.force_login(county.users["editor_a"])
    page = client.get(f"/lifecircle/{done.code}/")
    html = page.content.decode()
    config = json.loads(html.split('<script id="map-config" type="application/json">')[1].split("</script>")[0])
    assert set(config["layers"]) == {"homes", "facilities", "gaps", "areas", "roads", "sites"}
    assert "/static/vendor/leaflet/leaflet.js" in html and not re.search(r'(?:src|href)="(?:https?:)?//', html)
    script = Path(studies.__file__).parent / "static" / "lifecircle" / "study-map.js"
    assert "tileLayer" not in script.read_text(encoding="utf-8")  # the study's own layers only
    rows = {r["home_id"]: r for r in _csv(done.results_path / "homes.csv")}

    def check(home_id, props):
        r = rows[home_id]
        for t in TYPES:
            m, minutes, fac, circle = props[t]
            assert m == float(r[f"{t}_m"]) and minutes == float(r[f"{t}_min"]) and fac == r[f"{t}_id"]
            covering = [c for c in (5, 10, 15) if r[f"{t}_{c}"] == "1"]
            assert circle == (covering[0] if covering else None)

    homes = client.get(config["layers"]["homes"])
    assert homes["Content-Type"] == "application/geo+json"
    data = _body(homes)
    assert len(data["features"]) == 40
    packed = client.get(config["layers"]["homes"], HTTP_ACCEPT_ENCODING="gzip")
    assert packed["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(b"".join(packed.streaming_content))) == data
    for f in data["features"]:
        check(f["properties"]["id"], f["properties"])
        assert all(len(str(c).split(".")[-1]) <= 6 for c in f["geometry"]["coordinates"])
    monkeypatch.setattr(maplayers, "FEATURE_LIMIT", 10)  # many homes: one MultiPoint, arrays
    (multi,) = _body(client.get(config["layers"]["homes"]))["features"]
    p = multi["properties"]
    assert multi["geometry"]["type"] == "MultiPoint" and len(multi["geometry"]["coordinates"]) == 40
    for i, home_id in enumerate(p["id"]):
        check(home_id, {t: p[t][i] for t in TYPES})
        assert multi["geometry"]["coordinates"][i] == data["features"][i]["geometry"]["coordinates"]
    sites = client.get(config["layers"]["sites"]).json()["features"]
    assert [f["properties"]["rank"] for f in sites] == [1, 2]
    assert [f["properties"]["site_id"] for f in sites] == done.summary["siting"]["sites"]
    facilities = client.get(config["layers"]["facilities"]).json()["features"]
    assert sorted(f["properties"]["id"] for f in facilities) == ["F0", "F1", "F2"]
    gaps = client.get(config["layers"]["gaps"] + "?type=kindergarten&circle=5").json()["features"]
    assert {f["properties"]["home_id"] for f in gaps} == {h for h, r in rows.items() if r["kindergarten_5"] == "0"}
    assert client.get(f"/lifecircle/{done.code}/layers/nothing.geojson").status_code == 404
    # every output file downloads as written, and only those
    for name, _size in studies.outputs(done):
        response = client.get(f"/lifecircle/{done.code}/files/{name}")
        assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == (done.results_path / name).read_bytes()
        assert f'href="/lifecircle/{done.code}/files/{name}"' in html
    for bad in ("../inputs/homes/h.csv", "siting/../homes.csv", ".lifecircle", "nothing.csv"):
        assert client.get(f"/lifecircle/{done.code}/files/{bad}").status_code == 404
    # the coverage table per area shows coverage.csv's rates
    cov = {(r["area"], r["type"], r["circle"]): float(r["rate"]) * 100
           for r in _csv(done.results_path / "coverage.csv")}
    tables = {a["area"]: a for a in page.context["coverage"]}
    assert set(tables) == {"全部", "青山镇", "白河镇"}
    row = next(r for r in tables["青山镇"]["rows"] if r["type"] == "kindergarten")
    assert row["cells"][0] == pytest.approx(cov[("青山镇", "kindergarten", "5")])


def test_created_on_the_page_and_submitted_to_a_round(county, inputs, client):
    from chengzhen.assessment.models import Value

    client.force_login(county.users["supervisor"])
    form = client.get("/lifecircle/").content.decode()
    assert 'id="study-form"' in form and 'enctype="multipart/form-data"' in form

    def upload(name):
        return SimpleUploadedFile(name, (inputs / name).read_bytes())

    data = {"code": "QS-WEB", "name": "青山镇生活圈", "area_unit": county.units["town_a"].code,
            "preset": "gb50180-2018", "crs": "GCJ-02", "snap": "node", "max_snap": "500", "siting_method": "exact",
            "network": upload("net.geojson"), "facilities": upload("f.csv"), "homes": upload("h.csv"),
            "areas": upload("areas.geojson")}
    response = client.post("/lifecircle/", data)
    assert response.status_code == 302 and response.url == "/lifecircle/QS-WEB/"
    study = Study.objects.get(code="QS-WEB")
    assert study.inputs["homes"]["sha256"] == _sha(inputs / "h.csv") and study.options["snap"] == "node"
    data = {k: v for k, v in data.items() if k != "areas"}
    bad = client.post("/lifecircle/", {**data, "code": "QS-BAD", "network": SimpleUploadedFile("路网.txt", b"x"),
                                       "facilities": upload("f.csv"), "homes": upload("h.csv")})
    assert bad.status_code == 400 and "路网.txt:network: 路网文件的类型不受支持" in bad.content.decode()
    assert client.post("/lifecircle/QS-WEB/run/").status_code == 302
    run_study_job.call(Study.objects.get(pk=study.pk).job_id)

    _round(county)
    page = client.get("/lifecircle/QS-WEB/").content.decode()
    assert 'id="submit-form"' in page and 'value="LC-2026"' in page and 'value="S1"' in page
    done = client.post("/lifecircle/QS-WEB/submit/", {"round": "LC-2026", "indicator": "S1", "type": "kindergarten",
                                                       "circle": "5"}, follow=True).content.decode()
    assert "已向考核轮次 LC-2026 报送 2 个数值" in done
    cov = {r["area"]: r["rate"] for r in _csv(Study.objects.get(pk=study.pk).results_path / "coverage.csv")
           if r["type"] == "kindergarten" and r["circle"] == "5"}
    got = {v.subject.short_name: v.amount for v in Value.objects.select_related("subject")}
    assert got == {town: (Decimal(cov[town]) * 100).quantize(Decimal("0.01")) for town in ("青山镇", "白河镇")}
    # a town's liaison may not submit another town's figure: nothing more is written
    studies.publish_study(county.users["supervisor"], Study.objects.get(pk=study.pk))
    client.force_login(county.users["editor_b"])
    refused = client.post("/lifecircle/QS-WEB/submit/", {"round": "LC-2026", "indicator": "S1",
                                                          "type": "kindergarten", "circle": "5"}, follow=True)
    assert "无权填报" in refused.content.decode() and Value.objects.filter(version__gt=1).count() == 0


def test_the_study_page_in_english(done, client, county):
    from chengzhen.ledger.tests.test_language import data_of, leftover_chinese, to_english

    client.force_login(county.users["supervisor"])
    to_english(client)
    listing = client.get("/lifecircle/").content.decode()
    for english in ("Life-circle studies", "New life-circle study", "Network", "Upload and create"):
        assert english in listing, english
    page = client.get(f"/lifecircle/{done.code}/").content.decode()
    for english in ("Coverage by area", "Output files", "Facility type", "Run again", "Publish", "Siting"):
        assert english in page, english
    data = [*data_of(county), done.name, "幼儿园", "小学", "全部", done.summary["preset"],
            *[c["name"] for c in done.summary["circles"]], *[e["name"] for e in done.inputs.values()]]
    assert leftover_chinese(listing, data) == []
    assert leftover_chinese(page, data) == []


def test_removed_results_folder_reads_as_no_results(done, client, county):
    shutil.rmtree(done.results_path)
    client.force_login(county.users["supervisor"])
    assert client.get(f"/lifecircle/{done.code}/layers/homes.geojson").status_code == 404
    assert 'id="study-map"' not in client.get(f"/lifecircle/{done.code}/").content.decode()


def test_a_study_without_areas_submits_its_area_unit_s_figure(county, inputs):
    from chengzhen.assessment.models import Value

    files = {k: v for k, v in _files(inputs).items() if k != "areas"}
    study = _run(county, _create(county, inputs, code="QS-ALL", files=files))
    _round(county)
    done = studies.submit_study_coverage(county.users["supervisor"], study, round="LC-2026", node_code="S1",
                                         type_code="kindergarten", circle=5)
    cov = [r["rate"] for r in _csv(study.results_path / "coverage.csv")
           if r["area"] == "全部" and r["type"] == "kindergarten" and r["circle"] == "5"]
    value = Value.objects.get(pk=done.values[0].pk)
    assert len(done.values) == 1 and value.subject == county.units["town_a"]
    assert value.amount == (Decimal(cov[0]) * 100).quantize(Decimal("0.01"))


def test_areas_named_otherwise_are_mapped_to_subjects_on_the_page(county, inputs, client):
    """区域对应考核对象: areas whose names match no subject are refused by name; chosen on the submit
    form, each area's figure goes to the chosen town."""
    from chengzhen.assessment.models import Value

    areas = _town_areas(inputs / "片区.geojson", names=("西片区", "东片区"))
    study = _run(county, _create(county, inputs, code="QS-MAP", files={**_files(inputs), "areas": areas}))
    _round(county)
    client.force_login(county.users["supervisor"])
    page = client.get("/lifecircle/QS-MAP/").content.decode()
    assert 'id="area-map"' in page and 'name="area_map:西片区"' in page and "（名称对应不到）" in page
    form = {"round": "LC-2026", "indicator": "S1", "type": "kindergarten", "circle": "5"}
    refused = client.post("/lifecircle/QS-MAP/submit/", form, follow=True).content.decode()
    assert "区域“西片区”不是考核轮次 LC-2026 的考核对象" in refused and not Value.objects.exists()
    a, b = county.units["town_a"], county.units["town_b"]
    done = client.post("/lifecircle/QS-MAP/submit/", {**form, "area_map:西片区": a.code, "area_map:东片区": b.code},
                       follow=True).content.decode()
    assert "已向考核轮次 LC-2026 报送 2 个数值" in done
    cov = {r["area"]: r["rate"] for r in _csv(study.results_path / "coverage.csv")
           if r["type"] == "kindergarten" and r["circle"] == "5"}
    got = {v.subject.code: v.amount for v in Value.objects.select_related("subject")}
    assert got == {a.code: (Decimal(cov["西片区"]) * 100).quantize(Decimal("0.01")),
                   b.code: (Decimal(cov["东片区"]) * 100).quantize(Decimal("0.01"))}
