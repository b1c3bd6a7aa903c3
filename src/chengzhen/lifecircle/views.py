"""Life-circle study pages (生活圈研究): the list of studies a person may see with the form for a new
one (file uploads, a preset), and a study's page — its inputs and status, refreshed while the worker
runs it, then the interactive map (Leaflet, served by the platform, drawn from the study's own layers:
no tile server), the coverage table per area, every output file and the form that submits a coverage
figure to an assessment round. Thin shells over ``studies``; every refusal is shown as a message.
The layers and files are served only to people who may read the study, by the same rule as the page
(``restrict``): anyone else gets 404, as for a study that does not exist."""

from __future__ import annotations

import mimetypes
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from chengzhen.assessment.models import Round, RoundStatus, Value
from chengzhen.assessment.round_views import show_form_errors, show_refusal
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can, grants_for, restrict
from chengzhen.problems import Refused

from . import maplayers, studies
from .coverage import ALL, ALL_REQUIRED
from .models import Study, StudyStatus
from .services import OUTSIDE as OUTSIDE_NAMES
from .services import names_of

ACCEPTS_GZIP = re.compile(r"\bgzip\b")
SNAP_CHOICES = [("edge", gettext_lazy("投影到最近路段（edge）")), ("node", gettext_lazy("最近路网节点（node）"))]


class StudyForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("研究代码"), max_length=40, help_text=gettext_lazy("如 LC-QS-2026"))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=200)
    area_unit = forms.ChoiceField(label=gettext_lazy("研究区域（单位）"))
    preset = forms.ChoiceField(label=gettext_lazy("标准预设"), required=False)
    preset_file = forms.FileField(label=gettext_lazy("或上传预设文件（.yaml）"), required=False)
    network = forms.FileField(label=gettext_lazy("路网（.geojson、.gpkg、Shapefile 的 .zip、.osm.pbf）"))
    facilities = forms.FileField(label=gettext_lazy("设施（.csv、.xlsx 点位表或点图层）"))
    homes = forms.FileField(label=gettext_lazy("住宅（.csv、.xlsx 点位表或点图层）"))
    areas = forms.FileField(label=gettext_lazy("区域面（.geojson，按区域统计覆盖率）"), required=False)
    crs = forms.CharField(label=gettext_lazy("点位表的坐标系"), required=False, max_length=100,
                          help_text=gettext_lazy("WGS84、CGCS2000、GCJ-02、BD-09 或 EPSG 代码（不猜测）"))
    type_column = forms.CharField(label=gettext_lazy("设施类型列"), required=False, max_length=100)
    id_column = forms.CharField(label=gettext_lazy("住宅编号列"), required=False, max_length=100)
    snap = forms.ChoiceField(label=gettext_lazy("吸附方式"), choices=SNAP_CHOICES, initial="edge")
    max_snap = forms.CharField(label=gettext_lazy("到道路的最远距离（米）"), required=False, initial="500")
    candidates = forms.FileField(label=gettext_lazy("候选点（选址，可选）"), required=False)
    existing = forms.FileField(label=gettext_lazy("现有设施（选址，可选；默认取设施文件中同类设施）"), required=False)
    siting_type = forms.CharField(label=gettext_lazy("选址设施类型"), required=False, max_length=100)
    siting_k = forms.CharField(label=gettext_lazy("新址个数"), required=False)
    siting_circle = forms.CharField(label=gettext_lazy("生活圈（分钟）"), required=False)
    siting_radius = forms.CharField(label=gettext_lazy("或服务半径（米）"), required=False)
    siting_method = forms.ChoiceField(label=gettext_lazy("求解方法"), required=False, choices=[
        ("exact", gettext_lazy("精确（HiGHS，限时）")), ("greedy", gettext_lazy("贪心"))])

    FILES = {"network": "network", "facilities": "facilities", "homes": "homes", "areas": "areas",
             "candidates": "candidates", "existing": "existing", "preset_file": "preset"}

    def __init__(self, *args, units=(), **kwargs):
        from .presets import Preset

        super().__init__(*args, **kwargs)
        self.fields["area_unit"].choices = [(u.code, f"{u.short_name or u.name} · {u.code}") for u in units]
        self.fields["preset"].choices = [("", "—")] + [(n, n) for n in Preset.shipped()]
        self.fields["preset"].initial = "gb50180-2018"
        for field, role in self.FILES.items():  # the file picker offers the types the service accepts
            self.fields[field].widget.attrs["accept"] = ",".join(studies.ROLES[role].suffixes)


def _creatable_units(user) -> list[Unit]:
    """The units whose area the person may study (the Study rules, asked per unit)."""
    return [u for u in Unit.objects.order_by("path") if can(user, Action.EDIT, Study(area_unit=u))]


def study_inputs(d) -> tuple[dict, dict, str]:
    """The files by input role, the options and the preset from the new-study form's fields (the
    page's form and the API's alike): an uploaded preset file wins over the named one."""
    files = {role: d.get(field) for field, role in StudyForm.FILES.items() if d.get(field)}
    options = {"snap": d["snap"], "crs": d["crs"], "type_column": d["type_column"], "id_column": d["id_column"],
               "max_snap": d["max_snap"],
               "siting": {"type": d["siting_type"], "k": d["siting_k"], "circle": d["siting_circle"],
                          "radius": d["siting_radius"],
                          "method": d["siting_method"] if d["siting_type"] or d["siting_k"] else ""}}
    return files, options, "" if "preset" in files else d["preset"]


@login_required
def study_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not grants_for(user):
        raise PermissionDenied(_("无权查看生活圈研究"))
    may_create = can(user, Action.EDIT, Study)
    units = _creatable_units(user) if may_create else []
    form, status = (StudyForm(request.POST or None, request.FILES or None, units=units) if units else None), 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("%(user)s 无权创建生活圈研究") % {"user": user})
        if form.is_valid():
            d = form.cleaned_data
            files, options, preset = study_inputs(d)
            unit = next(u for u in units if u.code == d["area_unit"])
            try:
                study = studies.create_study(user, code=d["code"], name=d["name"], area_unit=unit,
                                             preset=preset, files=files, options=options)
            except (Refused, PermissionDenied) as exc:
                show_refusal(request, exc)
            else:
                messages.success(request, _("已创建生活圈研究 %(code)s。") % {"code": study.code})
                return redirect("lifecircle:study", code=study.code)
        else:
            show_form_errors(request, form)
        status = 400
    rows = restrict(Study.objects.select_related("area_unit", "created_by", "ran_by"), user)
    return render(request, "lifecircle/studies.html", {"studies": rows, "form": form, "open_form": status == 400,
                                                       "max_mb": studies.max_input_bytes() // 1048576}, status=status)


def _study(request: HttpRequest, code: str) -> Study:
    if "\x00" in code:
        raise Http404
    qs = restrict(Study.objects.select_related("area_unit", "created_by", "ran_by", "job"), request.user)
    return get_object_or_404(qs, code=code)


def _coverage(study: Study) -> list[dict]:
    """Per area: rows of types (全部必配 last) × the preset's circles, each a rate or None."""
    from .results import read_coverage

    folder = study.results_path
    if folder is None or not (folder / "coverage.csv").is_file():
        return []
    try:
        table = read_coverage(folder)
    except Refused:
        return []
    minutes = [c["minutes"] for c in study.summary.get("circles", [])] or sorted({r.circle for r in table.records})
    labels = dict(study.summary.get("labels", {}))
    out = []
    for area in table.areas():
        recs = [r for r in table.records if r.area == area]
        types = list(dict.fromkeys(r.type for r in recs if r.type != ALL_REQUIRED)) + [ALL_REQUIRED]
        rows = []
        for t in types:
            cells = {r.circle: r for r in recs if r.type == t}
            if not cells:
                continue
            label = labels.get(t) or next((r.type_label for r in cells.values() if r.type_label), t)
            rows.append({"type": t, "label": label, "complete": t == ALL_REQUIRED,
                         "cells": [None if m not in cells or cells[m].rate is None else float(cells[m].rate) * 100
                                   for m in minutes]})
        pop = next((r.population for r in recs), "")
        out.append({"area": area or _("区域外"), "whole": area == ALL, "rows": rows, "homes": recs[0].homes if recs
                    else 0, "population": pop})
    out.sort(key=lambda a: not a["whole"])
    return out


def _area_map(coverage: list[dict], open_rounds) -> dict:
    """The study's named areas, each with the subject of the open rounds its name matches (the
    default the service takes too), and those subjects to choose from instead (区域对应考核对象)."""
    from chengzhen.assessment.rounds import subjects_of

    units = {u.code: u for r in open_rounds for u in subjects_of(r)}
    by_name = names_of(units.values())
    areas = [a["area"] for a in coverage if not a["whole"] and a["area"] not in OUTSIDE_NAMES]
    rows = []
    for area in areas:
        codes = by_name.get(area.strip(), set())
        rows.append({"area": area, "matched": next(iter(codes)) if len(codes) == 1 else ""})
    return {"areas": rows, "units": sorted(units.values(), key=lambda u: u.path)}


AREA_FIELD = "area_map:"  # the submit form's field per area: area_map:<area name> = unit code


def area_mapping(data) -> dict[str, str] | None:
    """The areas a person mapped to a subject on the submit form (the rest by name), or None."""
    mapping = {k.removeprefix(AREA_FIELD): v.strip() for k, v in data.items()
               if k.startswith(AREA_FIELD) and isinstance(v, str) and v.strip()}
    return mapping or None


def _percent_leaves(rounds) -> list[tuple[str, str]]:
    """(NODE or NODE:INPUT, label) of the leaves measured in percent in the rounds' frameworks."""
    from chengzhen.assessment import rounds as round_services

    seen, out = set(), []
    for r in rounds:
        fw = round_services.framework(r)
        for node in fw.leaves():
            if node.measure:
                continue
            for inp in node.inputs:
                if inp.unit.strip() not in ("%", "％"):
                    continue
                value = node.code if len(node.inputs) == 1 else f"{node.code}:{inp.code}"
                if (fw.code, value) not in seen:
                    seen.add((fw.code, value))
                    out.append((value, f"{fw.code} · {node.code} {node.name}"
                                + ("" if len(node.inputs) == 1 else f" · {inp.label}")))
    return out


def _percent(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


# per circle, dark to light (viridis without its two ends, as the PNG maps), gaps in red
PALETTE = ["#3b528b", "#21918c", "#5ec962", "#b5de2b", "#e3e41a"]
GAP_COLOUR = "#d62728"


def _map_config(study: Study) -> dict:
    """What the map script needs: the layers' addresses, the types and circles, and its words in the
    page's language (the script itself holds no text)."""
    from django.urls import reverse

    summary = study.summary
    present = maplayers.available(study.results_path)
    return {
        "layers": {name: reverse("lifecircle:layer", args=[study.code, name]) for name in present},
        "types": summary.get("types", []), "labels": summary.get("labels", {}),
        "circles": summary.get("circles", []), "reach": summary.get("reach", {}),
        "palette": PALETTE, "gap": GAP_COLOUR,
        "text": {
            "home": _("住宅"), "population": _("人口"), "distance": _("到最近设施的距离"), "time": _("步行时间"),
            "facility": _("最近设施"), "circle": _("所在生活圈"), "gap": _("未覆盖"), "metres": _("米"),
            "minutes": _("分钟"), "unreachable": _("不可达（超出最大服务距离或离路网过远）"),
            "within": _("%(m)s 分钟内（≤%(r)s 米）"), "homes_count": _("%(n)s 处"), "facilities": _("现有设施"),
            "sites": _("选址新址"), "rank": _("排序"), "site": _("新址"), "new_population": _("新增覆盖人口"),
            "roads": _("道路"), "areas": _("区域"), "loading": _("正在载入图层…"), "failed": _("图层载入失败："),
            "type": _("类型"), "id": _("编号"),
        },
    }


@login_required
def study_detail(request: HttpRequest, code: str) -> HttpResponse:
    from chengzhen.assessment.rounds import visible_rounds

    study = _study(request, code)
    user = request.user
    done = study.status == StudyStatus.DONE and study.results_path is not None
    context = {"study": study, "done": done, "may_edit": can(user, Action.EDIT, study),
               "stale": study.running and studies.is_stale(study),
               "roles": [(studies.ROLES[r].label, e) for r, e in study.inputs.items() if r in studies.ROLES]}
    if done:
        summary = study.summary
        types = summary.get("types", [])
        context.update(
            coverage=_coverage(study), outputs=studies.outputs(study),
            types=[(t, summary.get("labels", {}).get(t, t)) for t in types],
            circles=summary.get("circles", []), layers=maplayers.available(study.results_path),
            map_config=_map_config(study),
            complete=[(c["minutes"], _percent(summary.get("all_required", {}).get(str(c["minutes"]))))
                      for c in summary.get("circles", [])])
        if can(user, Action.REPORT, Value):
            open_rounds = list(visible_rounds(user).filter(status=RoundStatus.COLLECTING).order_by("-year", "code"))
            context.update(rounds=open_rounds, leaves=_percent_leaves(open_rounds),
                           submit_types=[*context["types"], (ALL_REQUIRED, _("全部必配"))],
                           area_map=_area_map(context["coverage"], open_rounds))
    return render(request, "lifecircle/study.html", context)


@login_required
@require_POST
def study_run(request: HttpRequest, code: str) -> HttpResponse:
    study = _study(request, code)
    try:
        studies.run_study(request.user, study)
    except (Refused, PermissionDenied) as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("已提交测算，后台完成后本页显示成果。"))
    return redirect("lifecircle:study", code=study.code)


@login_required
@require_POST
def study_publish(request: HttpRequest, code: str) -> HttpResponse:
    study = _study(request, code)
    publish = request.POST.get("published", "1") == "1"
    try:
        version = int(request.POST.get("expected_version", ""))
    except ValueError:
        version = -1
    try:
        studies.publish_study(request.user, study, published=publish, expected_version=version)
    except (Refused, PermissionDenied) as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("已发布，所有人员均可查看。") if publish else _("已撤回发布。"))
    return redirect("lifecircle:study", code=study.code)


@login_required
@require_POST
def study_submit(request: HttpRequest, code: str) -> HttpResponse:
    study = _study(request, code)
    r = Round.objects.filter(code=request.POST.get("round", "")).first()
    node, _sep, input_code = request.POST.get("indicator", "").strip().partition(":")
    if r is None or not node:
        messages.error(request, _("请选择考核轮次和指标"))
        return redirect("lifecircle:study", code=study.code)
    try:
        done = studies.submit_study_coverage(
            request.user, study, round=r, node_code=node.strip(), input_code=input_code.strip(),
            type_code=request.POST.get("type", ""), circle=request.POST.get("circle", ""),
            area_to_unit=area_mapping(request.POST),
            skip_unknown_areas=request.POST.get("skip_unknown_areas") == "on")
    except (Refused, PermissionDenied) as exc:
        show_refusal(request, exc)
    else:
        for note in done.skipped:
            messages.info(request, note)
        messages.success(request, _("已向考核轮次 %(round)s 报送 %(n)s 个数值：%(values)s") % {
            "round": r.code, "n": len(done.values),
            "values": "、".join(f"{v.subject.short_name or v.subject.name} {done.rates[v.subject.code].amount}%"
                               for v in done.values)})
    return redirect("lifecircle:study", code=study.code)


@gzip_page  # the small layers built per request; they hold no secret for a compression attack to guess
@login_required
def study_layer(request: HttpRequest, code: str, name: str) -> HttpResponse:
    """One map layer as GeoJSON (``maplayers``); 404 for a layer the run does not have."""
    study = _study(request, code)
    folder = study.results_path
    if study.status != StudyStatus.DONE or folder is None or name not in maplayers.available(folder):
        raise Http404
    if name in ("roads", "homes"):  # the large ones: files of the run, compressed once
        path = folder / maplayers.ROADS if name == "roads" else maplayers.homes_file(
            folder, study.summary.get("types", []), [c["minutes"] for c in study.summary.get("circles", [])])
        packed = ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        response = FileResponse((maplayers.gzipped(path, folder) if packed else path).open("rb"),
                                content_type="application/geo+json")
        if packed:
            response["Content-Encoding"] = "gzip"
        patch_vary_headers(response, ["Accept-Encoding"])
    else:
        if name == "gaps":
            data = maplayers.gaps(folder, request.GET.get("type", ""), request.GET.get("circle", ""))
        else:
            data = getattr(maplayers, name)(folder)
        response = JsonResponse(data, content_type="application/geo+json", json_dumps_params={
            "separators": (",", ":"), "ensure_ascii": False})
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def study_file(request: HttpRequest, code: str, name: str) -> HttpResponse:
    """An output file of the latest run, as a download (only names the run wrote)."""
    study = _study(request, code)
    folder = study.results_path
    if study.status != StudyStatus.DONE or folder is None or name not in dict(studies.outputs(study)):
        raise Http404
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((folder / name).open("rb"), as_attachment=True,
                            filename=f"{study.code}-{name.replace('/', '-')}", content_type=kind)
    response["X-Content-Type-Options"] = "nosniff"
    return response
