"""Life-circle studies (生活圈研究) as platform actions, one function per thing a person does, each
checking the permission (``org.permissions``: the Study rules) and writing its audit record in the
same transaction as the change:

- ``create_study``: store the uploaded inputs (a whitelist of extensions per input, a size limit,
  no empty file — each refusal names the file) with their SHA-256 and the options; refused input
  stores nothing, not even a file.
- ``run_study``: queue a run on the background worker (the ledger's ``Job`` machinery). The job
  (``perform_run``) measures with ``run.run`` into a fresh hidden folder, chooses sites with
  ``site_run.site`` when the study has candidates, writes the roads for the map and only then moves
  the folder into place; it stores the summary and writes ONE audit record per run (``run_study``,
  with every input's SHA-256 and the outcome). A refused or failed run keeps the previous results,
  stores the reason (a ``Refused``'s problems as the library words them, in Chinese) and status
  failed, and leaves no folder behind.
- ``publish_study``: everyone holding a role may then read it.
- ``submit_study_coverage``: the study's coverage for one type and circle as assessment values,
  through ``lifecircle.services.submit_coverage`` (its own permission checks per value).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from chengzhen.audit.chain import record_event
from chengzhen.audit.context import acting_as, acting_for
from chengzhen.documents.models import Job
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can
from chengzhen.problems import Problem, Refused

from . import layers, maplayers
from .models import Study, StudyStatus

if TYPE_CHECKING:
    from .services import Submitted

logger = logging.getLogger("chengzhen.lifecircle")

CODE = re.compile(r"[A-Z0-9][A-Za-z0-9_-]{0,39}")  # like the merged lists' codes
LINES = (".geojson", ".json", ".gpkg", ".zip", ".osm.pbf")
POINTS = (".csv", ".xlsx", ".geojson", ".json", ".gpkg", ".zip")


@dataclass(frozen=True)
class Role:
    """One kind of input: its label, whether it is required and the file types it may be."""

    label: str
    required: bool
    suffixes: tuple[str, ...]


ROLES: dict[str, Role] = {
    "network": Role(gettext_noop("路网"), True, LINES),
    "facilities": Role(gettext_noop("设施"), True, (*POINTS, ".osm.pbf")),
    "homes": Role(gettext_noop("住宅"), True, POINTS),
    "areas": Role(gettext_noop("区域"), False, (".geojson", ".json")),  # run.read_areas reads GeoJSON
    "candidates": Role(gettext_noop("候选点"), False, POINTS),
    "existing": Role(gettext_noop("现有设施"), False, (*POINTS, ".osm.pbf")),
    "preset": Role(gettext_noop("预设文件"), False, (".yaml", ".yml")),
}
SNAPS = ("edge", "node")
METHODS = ("exact", "greedy")
JOB_KIND = "lifecircle_study"
ROADS = "roads.geojson"  # the network in WGS84 for the map, written beside the run's outputs
SITING = "siting"  # site_run's outputs, in their own folder (its coverage.csv is not the run's)


def max_input_bytes() -> int:
    """Largest input accepted: ``CHENGZHEN_LIFECIRCLE_MAX_INPUT_BYTES``, else what the readers take (1 GB)."""
    return int(getattr(settings, "CHENGZHEN_LIFECIRCLE_MAX_INPUT_BYTES", layers.MAX_BYTES))


# ---- create ---------------------------------------------------------------------------------------


def create_study(user, *, code: str, name: str, area_unit: Unit, preset: str = "",
                 files: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> Study:
    """A new study of ``area_unit``'s area. ``files`` maps an input role (``ROLES``) to an upload
    (Django's ``UploadedFile``) or a local ``Path``; ``preset`` is a shipped preset's name, or empty
    when ``files`` has a ``preset`` file. Refused (``Refused``, ``PermissionDenied``) with nothing
    stored."""
    from .presets import Preset

    if not can(user, Action.EDIT, Study(area_unit=area_unit)):
        raise PermissionDenied(_("%(user)s 无权为 %(unit)s 创建生活圈研究") % {"user": user, "unit": area_unit})
    code, name, preset = (code or "").strip(), (name or "").strip(), (preset or "").strip()
    problems = []
    if not CODE.fullmatch(code):
        problems.append(Problem(column="code", reason=_(
            "研究代码以大写字母或数字开头，只含字母、数字、- 和 _，至多 40 个字符")))
    elif Study.objects.filter(code=code).exists():
        problems.append(Problem(column="code", reason=_("研究代码 %(code)s 已存在") % {"code": code}))
    if not name or len(name) > 200:
        problems.append(Problem(column="name", reason=_("须填写名称（至多 200 个字符）")))
    files = {role: f for role, f in files.items() if f}
    unknown = [r for r in files if r not in ROLES]
    if unknown:
        problems.append(Problem(column="files", reason=_("未知的输入：%(roles)s") % {"roles": "、".join(unknown)}))
    if bool(preset) == ("preset" in files):
        problems.append(Problem(column="preset", reason=_("请选择一个随附预设，或上传预设文件（二者选一）")))
    elif preset and preset not in Preset.shipped():
        problems.append(Problem(column="preset", reason=_("没有预设 %(name)s（可用：%(names)s）") % {
            "name": preset, "names": "、".join(Preset.shipped())}))
    for role, spec in ROLES.items():
        if spec.required and role not in files:
            problems.append(Problem(column=role, reason=_("须上传%(label)s文件") % {"label": _(spec.label)}))
    for role, f in files.items():
        if role in ROLES:
            problems += _check_file(role, f)
    opts, more = _options(options or {}, has_candidates="candidates" in files,
                          preset=preset, preset_upload="preset" in files)
    problems += more
    if problems:
        raise Refused(problems)
    folder = uuid.uuid4().hex
    base = Path(settings.MEDIA_ROOT) / "lifecircle" / folder
    try:
        inputs = {role: _store(base, role, f) for role, f in files.items()}
        if "preset" in inputs:  # a preset file is checked now: a bad one would only fail the run
            stored = Path(settings.MEDIA_ROOT) / inputs["preset"]["stored"]
            try:
                Preset.load(stored)
            except Refused as exc:
                raise Refused([_named(p, stored, inputs["preset"]["name"]) for p in exc.problems]) from None
        if opts.get("siting"):
            _check_siting(opts["siting"], preset or Path(settings.MEDIA_ROOT) / inputs["preset"]["stored"])
        with acting_for(user, "create_study"), transaction.atomic():
            study = Study.objects.create(code=code, name=name, area_unit=area_unit, preset=preset, options=opts,
                                         inputs=inputs, folder=folder, created_by=user)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    return study


def _display_name(f) -> str:
    return Path(str(getattr(f, "name", f))).name


def _suffix_ok(name: str, suffixes: tuple[str, ...]) -> bool:
    return name.lower().endswith(suffixes)


def _size(f) -> int:
    return f.stat().st_size if isinstance(f, Path) else int(f.size or 0)


def _check_file(role: str, f) -> list[Problem]:
    spec = ROLES[role]
    name = _display_name(f)
    label = _(spec.label)
    if isinstance(f, Path) and not f.is_file():
        return [Problem(file=name, column=role, reason=_("%(label)s：没有这个文件") % {"label": label})]
    if not _suffix_ok(name, spec.suffixes):
        hint = _("；Shapefile 请连同 .shx、.dbf、.prj 打包为 .zip 上传") if name.lower().endswith(
            (".shp", ".shx", ".dbf", ".prj")) and ".zip" in spec.suffixes else ""
        return [Problem(file=name, column=role, reason=_("%(label)s文件的类型不受支持（可用：%(types)s）%(hint)s") % {
            "label": label, "types": " ".join(spec.suffixes), "hint": hint})]
    size = _size(f)
    if size == 0:
        return [Problem(file=name, column=role, reason=_("%(label)s文件是空的") % {"label": label})]
    if size > max_input_bytes():
        return [Problem(file=name, column=role, reason=_("%(label)s文件过大（%(size)s MB，上限 %(limit)s MB）") % {
            "label": label, "size": f"{size / 1048576:.1f}", "limit": max_input_bytes() // 1048576})]
    return []


_UNSAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")


def _safe_name(name: str, role: str) -> str:
    """The upload's own name as a plain file name (the run's refusals then name the person's file)."""
    clean = _UNSAFE.sub("_", Path(name).name).strip(" .")
    suffix = next((s for s in ROLES[role].suffixes if clean.lower().endswith(s)), "")
    if len(clean) > 120:
        clean = clean[: 120 - len(suffix)] + suffix
    return clean if clean and clean.lower() != suffix else f"{role}{suffix}"


def _store(base: Path, role: str, f) -> dict[str, Any]:
    """Copy an input under the study's folder, hashing it on the way."""
    name = _display_name(f)
    target = base / "inputs" / role / _safe_name(name, role)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        chunks = _path_chunks(f) if isinstance(f, Path) else f.chunks()
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size == 0:  # an upload that said otherwise
        raise Refused([Problem(file=name, column=role, reason=_("%(label)s文件是空的") % {
            "label": _(ROLES[role].label)})])
    return {"name": name, "size": size, "sha256": digest.hexdigest(),
            "stored": target.relative_to(Path(settings.MEDIA_ROOT)).as_posix()}


def _path_chunks(path: Path, size: int = 1 << 20):
    with path.open("rb") as f:
        yield from iter(lambda: f.read(size), b"")


def _number(raw, column: str, label: str, problems: list[Problem], *, default=None, integer: bool = False):
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw).strip()) if integer else float(str(raw).strip())
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        problems.append(Problem(column=column, reason=_("%(label)s应为正数，不是 %(value)r") % {
            "label": label, "value": str(raw)}))
        return default
    return value


def _options(raw: Mapping[str, Any], *, has_candidates: bool, preset: str,
             preset_upload: bool) -> tuple[dict[str, Any], list[Problem]]:
    """The options as stored (only what was given, numbers as numbers) and the problems found."""
    from . import crs as crs_module

    problems: list[Problem] = []
    opts: dict[str, Any] = {}
    snap = str(raw.get("snap") or "edge").strip()
    if snap not in SNAPS:
        problems.append(Problem(column="snap", reason=_("吸附方式应为 edge 或 node")))
    opts["snap"] = snap
    crs_text = str(raw.get("crs") or "").strip()
    if crs_text:
        try:
            crs_module.declared(crs_text, column="crs")
        except Refused as exc:
            problems += exc.problems
        opts["crs"] = crs_text
    for key in ("type_column", "id_column"):
        text = str(raw.get(key) or "").strip()
        if len(text) > 100:
            problems.append(Problem(column=key, reason=_("列名过长")))
        elif text:
            opts[key] = text
    for key, label in (("max_distance", _("距离上限（米）")), ("max_snap", _("到道路的最远距离（米）"))):
        value = _number(raw.get(key), key, label, problems)
        if value is not None:
            opts[key] = value
    siting = dict(raw.get("siting") or {})
    wanted = any(v not in (None, "") for v in siting.values())
    if has_candidates and not wanted:
        problems.append(Problem(column="siting", reason=_("上传了候选点：请填写选址的设施类型和新址个数")))
    elif wanted and not has_candidates:
        problems.append(Problem(column="candidates", reason=_("选址需要候选点文件")))
    elif wanted:
        s: dict[str, Any] = {}
        s["type"] = str(siting.get("type") or "").strip()
        if not s["type"]:
            problems.append(Problem(column="siting_type", reason=_("须填写选址的设施类型")))
        k = _number(siting.get("k"), "siting_k", _("新址个数"), problems, integer=True)
        if k is None and siting.get("k") in (None, ""):
            problems.append(Problem(column="siting_k", reason=_("须填写新址个数")))
        s["k"] = k
        radius = _number(siting.get("radius"), "siting_radius", _("服务半径（米）"), problems)
        circle = _number(siting.get("circle"), "siting_circle", _("生活圈（分钟）"), problems, integer=True)
        if (radius is None) == (circle is None):
            problems.append(Problem(column="siting_circle", reason=_("选址须给出生活圈（分钟）或服务半径（米）之一")))
        s["radius"], s["circle"] = radius, circle
        method = str(siting.get("method") or "exact").strip()
        if method not in METHODS:
            problems.append(Problem(column="siting_method", reason=_("求解方法应为 exact 或 greedy")))
        s["method"] = method
        s["time_limit"] = _number(siting.get("time_limit"), "siting_time_limit", _("求解时限（秒）"), problems,
                                  default=60.0)
        opts["siting"] = s
    return opts, problems


def _check_siting(s: dict[str, Any], preset) -> None:
    """The siting type must be a catalogue type; a circle must be one of the preset's."""
    from .catalogue import Catalogue
    from .presets import Preset

    catalogue = Catalogue.load()
    s["type"] = catalogue.resolve(s["type"], column="siting_type")
    chosen = Preset.load(preset, catalogue)
    if s["type"] not in chosen.types:  # the study measures (and maps) the preset's types only
        raise Refused([Problem(column="siting_type", reason=_("预设“%(name)s”不要求%(type)s，不能为其选址") % {
            "name": chosen.name, "type": catalogue.label(s["type"])})])
    if s.get("circle") is not None:
        if s["circle"] not in chosen.minutes:
            raise Refused([Problem(column="siting_circle", reason=_(
                "预设“%(name)s”没有 %(m)s 分钟生活圈（有 %(have)s）") % {
                "name": chosen.name, "m": s["circle"], "have": "/".join(map(str, chosen.minutes))})])


def _named(p: Problem, stored: Path, name: str) -> Problem:
    """A library problem with the stored path replaced by the person's file name."""
    return Problem(file=p.file.replace(str(stored), name), sheet=p.sheet, row=p.row, column=p.column,
                   reason=p.reason.replace(str(stored), name))


# ---- run ------------------------------------------------------------------------------------------


def is_stale(study: Study) -> bool:
    """A queued or running study whose job has said nothing for ``CHENGZHEN_STUDY_STALE_MINUTES``
    (default 30; every stage of a run reports, the longest takes minutes): its worker has died, and
    the study may be run again."""
    minutes = float(getattr(settings, "CHENGZHEN_STUDY_STALE_MINUTES", 30))
    job = study.job
    return job is None or job.updated_at < timezone.now() - dt.timedelta(minutes=minutes)


def run_study(user, study: Study) -> Job:
    """Queue a run of ``study`` on the background worker; its page shows the progress. Refused while
    a run is queued or running."""
    from .jobs import run_study_job

    with acting_for(user, "run_study"), transaction.atomic():
        s = Study.objects.select_for_update().select_related("area_unit").get(pk=study.pk)
        if not can(user, Action.EDIT, s):
            raise PermissionDenied(_("%(user)s 无权测算生活圈研究 %(code)s（研究区域：%(unit)s）") % {
                "user": user, "code": s.code, "unit": s.area_unit})
        if s.running and not is_stale(s):
            raise Refused([Problem(reason=_("研究 %(code)s 正在测算，请等待完成") % {"code": s.code})])
        job = Job.objects.create(kind=JOB_KIND, user=user, stage=gettext_noop("排队等待"),
                                 params={"study": s.pk, "code": s.code, "language": get_language()})
        s.status, s.progress, s.error, s.job = StudyStatus.QUEUED, "", "", job
        s.save(update_fields=["status", "progress", "error", "job"])
        run_study_job.enqueue(job.pk)
    study.refresh_from_db()
    return job


def perform_run(job_id: int) -> str:
    """The job: measure (and site) into a fresh folder, store the outcome, one audit record; see the
    module docstring. Returns the job's status."""
    from chengzhen.ledger.jobs import job_language

    job = Job.objects.select_related("user").get(pk=job_id)
    study = Study.objects.select_related("area_unit").get(pk=job.params["study"])
    user = job.user
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    _set(study, status=StudyStatus.RUNNING, progress="")

    def say(text: str) -> None:
        text = str(text)
        Study._base_manager.filter(pk=study.pk).update(progress=text[:200])
        job.report(text[:100])
        Job.objects.filter(pk=job.pk).update(updated_at=timezone.now())  # alive: see is_stale

    runs = study.base / "runs"
    staging: Path | None = None
    summary: dict[str, Any] = {}
    error = ""
    final: Path | None = None
    with acting_as(user, f"job:{job.pk} lifecircle study"), translation.override(job_language(job)):
        try:
            if not can(user, Action.EDIT, study):
                raise PermissionDenied(_("%(user)s 无权测算生活圈研究 %(code)s") % {"user": user, "code": study.code})
            _check_inputs(study)
            runs.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".run-", dir=runs))
            out = staging / "out"
            summary = _measure(study, out, say)
            final = runs / str(study.runs + 1)
            if final.exists():  # left by a run whose record was never written
                shutil.rmtree(final)
            out.rename(final)
        except Refused as exc:
            error = "\n".join(str(_clean(p, study)) for p in exc.problems)
        except PermissionDenied as exc:
            error = str(exc) or _("无权限")
        except Exception as exc:  # noqa: BLE001 - any failure is stored on the study, never half a result
            logger.exception("life-circle study %s failed", study.code)
            error = _("测算出错：%(error)s") % {"error": _clean_text(str(exc) or type(exc).__name__, study)}
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
        previous = study.results_path
        try:
            with transaction.atomic():
                fields: dict[str, Any] = {"progress": "", "ran_by": user, "ran_at": timezone.now(),
                                          "runs": study.runs + 1}
                if error:
                    fields.update(status=StudyStatus.FAILED, error=error)
                else:
                    fields.update(status=StudyStatus.DONE, error="", summary=summary,
                                  results=final.relative_to(Path(settings.MEDIA_ROOT)).as_posix())
                _set(study, **fields)
                record_event("run_study", "lifecircle.study", study.pk, code=study.code, job=job.pk,
                             status=fields["status"], preset=study.preset_label, options=study.options,
                             inputs={r: {"name": e["name"], "sha256": e["sha256"]} for r, e in study.inputs.items()},
                             results=fields.get("results", ""), error=error,
                             figures={k: summary[k] for k in ("homes", "types", "far_homes", "problems")
                                      if k in summary})
                said = error.splitlines() if error else [_("已完成生活圈研究 %(code)s 的测算") % {"code": study.code}]
                Job.objects.filter(pk=job.pk).update(
                    status=Job.Status.FAILED if error else Job.Status.DONE,
                    stage=gettext_noop("未完成") if error else gettext_noop("完成"), messages=said)
        except BaseException:
            if final is not None:
                shutil.rmtree(final, ignore_errors=True)
            raise
    if not error and previous is not None and previous != final:
        shutil.rmtree(previous, ignore_errors=True)  # the new run replaces it (its inputs are kept)
    return Job.Status.FAILED if error else Job.Status.DONE


def _set(study: Study, **fields) -> None:
    """Write the latest run's (untracked) fields."""
    for name, value in fields.items():
        setattr(study, name, value)
    study.save(update_fields=list(fields))


def _check_inputs(study: Study) -> None:
    """Each input still on disk with the SHA-256 it was stored with (the versions the run records)."""
    problems = []
    for role, entry in study.inputs.items():
        path = study.input_path(role)
        if path is None or not path.is_file():
            problems.append(Problem(file=entry["name"], reason=_("输入文件已不存在，请重新创建研究")))
            continue
        digest = hashlib.sha256()
        for chunk in _path_chunks(path):
            digest.update(chunk)
        if digest.hexdigest() != entry["sha256"]:
            problems.append(Problem(file=entry["name"], reason=_("输入文件与上传时不一致（SHA-256 不同）")))
    if problems:
        raise Refused(problems)


def _clean_text(text: str, study: Study) -> str:
    """Library messages name files by the stored paths: give the person's names instead."""
    for role, entry in study.inputs.items():
        stored = study.input_path(role)
        text = text.replace(str(stored), entry["name"]).replace(str(stored.parent) + "/", "")
    return text.replace(str(study.base) + "/", "")


def _clean(p: Problem, study: Study) -> Problem:
    return Problem(file=_clean_text(p.file, study), sheet=p.sheet, row=p.row, column=p.column,
                   reason=_clean_text(p.reason, study))


def _preset_arg(study: Study) -> str:
    return study.preset or str(study.input_path("preset"))


def _measure(study: Study, out: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """run.run (and site_run.site) into ``out``; the summary the page shows."""
    from . import run as run_module
    from .catalogue import Catalogue
    from .outputs import type_label as labels_of
    from .presets import Preset
    from .results import read_coverage

    o = study.options
    path = {role: str(study.input_path(role)) for role in study.inputs}
    preset = _preset_arg(study)
    common = {"crs": o.get("crs") or None, "snap": o.get("snap", "edge"), "max_snap": o.get("max_snap", 500.0)}
    result = run_module.run(network=path["network"], facilities=path["facilities"], homes=path["homes"], output=out,
                            preset=preset, type_column=o.get("type_column"), id_column=o.get("id_column"),
                            areas=path.get("areas"),
                            max_distance=o.get("max_distance", run_module.DEFAULT_MAX_DISTANCE), progress=say,
                            **common)
    catalogue = Catalogue.load()
    type_label = labels_of(catalogue)  # the Chinese name alone, as coverage.csv has it
    chosen = Preset.load(preset, catalogue)
    siting = None
    s = o.get("siting")
    if s and "candidates" in path:
        from . import site_run

        existing = path.get("existing") or (path["facilities"] if s["type"] in result.types else None)
        done = site_run.site(network=path["network"], homes=path["homes"], type_code=s["type"], k=int(s["k"]),
                             output=out / SITING, candidates=path["candidates"],
                             preset=preset if s.get("circle") else None, circle=s.get("circle"),
                             radius=s.get("radius"), existing=existing, type_column=o.get("type_column"),
                             id_column=o.get("id_column"), method=s.get("method", "exact"),
                             time_limit=float(s.get("time_limit") or 60.0), areas=path.get("areas"),
                             progress=say, **common)
        siting = {k: done.summary.get(k) for k in (
            "type", "type_label", "k", "reach_m", "method", "optimal", "objective", "bound", "bound_kind", "gap",
            "population", "covered_before", "covered_after", "sites", "candidates", "existing")}
        siting["type_label"] = type_label(siting["type"])  # the name alone, as on the rest of the page
    say(_("整理地图图层…"))
    _write_roads(path["network"], o.get("crs") or None, out / ROADS)
    for path in (out / ROADS, maplayers.homes_file(out, list(result.types), chosen.minutes)):
        maplayers.gzipped(path, out)  # the page's largest layers, ready to send
    table = read_coverage(out)
    complete = {str(r.circle): float(r.rate) for r in table.records
                if r.type == "all_required" and r.area == "全部" and r.rate is not None}
    return _plain({
        "homes": result.homes, "types": list(result.types),
        "labels": {t: type_label(t) for t in result.types},
        "circles": [{"minutes": c.minutes, "name": c.name} for c in chosen.circles],
        "reach": {t: {str(c.minutes): chosen.reach(t, c) for c in chosen.circles} for t in result.types},
        "unreachable": dict(result.unreachable), "far_homes": result.far_homes,
        "far_facilities": result.far_facilities, "fragment_homes": result.fragment_homes,
        "fragment_facilities": result.fragment_facilities, "missing_types": list(result.missing_types),
        "problems": result.problems, "all_required": complete, "preset": chosen.name, "line": result.summary,
        "siting": siting,
    })


def _plain(value):
    """JSON-safe: NumPy numbers as Python numbers, NaN and infinity as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_roads(network: str, crs: str | None, path: Path) -> Path:
    """The network's lines as GeoJSON (WGS84, 6 decimals, about 0.1 m) for the study's map."""
    import numpy as np

    from .run import _read_lines

    feats = []
    for line in _read_lines(network, crs).lines:
        xy = np.round(np.asarray(line.coords)[:, :2], 6)
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
        if keep.sum() >= 2:
            feats.append({"type": "Feature", "properties": {},
                          "geometry": {"type": "LineString", "coordinates": xy[keep].tolist()}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":")),
                    encoding="utf-8")
    return path


# ---- publish, submit ------------------------------------------------------------------------------


def publish_study(user, study: Study, *, published: bool = True, expected_version: int | None = None) -> Study:
    """Publish (or withdraw) a finished study: published, anyone holding a role reads it."""
    with acting_for(user, "publish_study"), transaction.atomic():
        s = Study.objects.select_for_update().select_related("area_unit").get(pk=study.pk)
        if not can(user, Action.EDIT, s):
            raise PermissionDenied(_("%(user)s 无权发布生活圈研究 %(code)s") % {"user": user, "code": s.code})
        if expected_version is not None and s.version != expected_version:
            raise Refused([Problem(reason=_("研究 %(code)s 已被他人修改，请刷新后再试") % {"code": s.code})])
        if published and s.status != StudyStatus.DONE:
            raise Refused([Problem(reason=_("研究 %(code)s 尚未测算完成，不能发布") % {"code": s.code})])
        if s.published != published:
            s.published = published
            s.save(update_fields=["published"])
    return s


def submit_study_coverage(user, study: Study, *, round, node_code: str, input_code: str = "", type_code: str,
                          circle: int | str, area_to_unit: Mapping[str, str] | None = None,
                          skip_unknown_areas: bool = False) -> Submitted:
    """Submit the study's coverage of ``type_code`` within ``circle`` minutes to ``round`` (one value
    per area's subject): ``services.submit_coverage`` on the study's results folder, with its
    checks; the person must also be able to read the study."""
    from .services import submit_coverage

    if not can(user, Action.READ, study):
        raise PermissionDenied(_("%(user)s 无权查看生活圈研究 %(code)s") % {"user": user, "code": study.code})
    folder = study.results_path
    if study.status != StudyStatus.DONE or folder is None:
        raise Refused([Problem(reason=_("研究 %(code)s 没有测算成果，不能报送") % {"code": study.code})])
    if area_to_unit is None and "areas" not in study.inputs:
        from .coverage import ALL

        area_to_unit = {ALL: study.area_unit.code}  # without areas the study's figure is its area unit's
    return submit_coverage(user, round, folder=folder, node_code=node_code, input_code=input_code,
                           type_code=type_code, circle=circle, area_to_unit=area_to_unit,
                           skip_unknown_areas=skip_unknown_areas, preset=_preset_arg(study))


def outputs(study: Study) -> list[tuple[str, int]]:
    """(name relative to the results folder, bytes) of every output file, for the downloads."""
    folder = study.results_path
    if folder is None:
        return []
    found = [p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in
                                                                      p.relative_to(folder).parts)]
    return sorted(((p.relative_to(folder).as_posix(), p.stat().st_size) for p in found),
                  key=lambda item: (item[0].count("/"), item[0]))


__all__ = ["ROLES", "create_study", "outputs", "perform_run", "publish_study", "run_study", "submit_study_coverage"]
