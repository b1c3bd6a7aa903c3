"""Framework pages (测评体系): the list with the import form, one version as a tree with every
node's points, unit, direction, rule, data source, department and evidence requirement, and the
downloads (.yaml, .xlsx). Thin shells over ``services`` and the permission function."""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chengzhen.documents.files import upload_on_disk
from chengzhen.org.permissions import Action, can, require
from chengzhen.problems import Refused

from . import services
from .framework import DIRECTIONS, ByClass
from .models import FrameworkVersion
from .rules import RULES, describe, fmt_value

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("测评体系文件"),
        help_text=gettext_lazy(".yaml 或惯用版式的 .xlsx（先导出一个体系即可看到版式）"),
    )


@login_required
def framework_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.READ, FrameworkVersion)
    form = None
    if can(request.user, Action.EDIT, FrameworkVersion):
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            with upload_on_disk(upload) as path:
                try:
                    imported = services.import_framework_file(request.user, path, upload.name)
                except Refused as exc:
                    for p in exc.problems:
                        form.add_error(None, str(p))
                else:
                    messages.success(request, imported.message())
                    v = imported.version
                    return redirect("assessment:framework", code=v.framework.code, label=v.label)
    versions = FrameworkVersion.objects.select_related("framework").order_by("framework__code", "created_at")
    return render(request, "assessment/frameworks.html", {"versions": versions, "form": form})


def _version(code: str, label: str) -> FrameworkVersion:
    version = (
        FrameworkVersion.objects.select_related("framework", "created_by")
        .filter(framework__code=code, label=label)
        .first()
    )
    if version is None:
        raise Http404(_("没有该测评体系版本"))
    return version


PARAM_NAMES = {"target": gettext_lazy("目标值"), "floor": gettext_lazy("下限值"), "low": gettext_lazy("区间下限"),
               "high": gettext_lazy("区间上限")}


def _class_tables(fw, node) -> list[str]:
    """Each class-dependent parameter in words: ``目标值：100万以上、南方 7.5平方米/人；…``."""
    out = []
    for name, param in node.params.items():
        if not isinstance(param, ByClass):
            continue
        parts = []
        for key, value in param.values.items():
            label = "、".join(fw.profile[a].values.get(k, k) for a, k in zip(param.by, key.split("/"), strict=False))
            parts.append(f"{label} {fmt_value(value, node.unit)}")
        if param.default is not None:
            parts.append(f"{_('其他')} {fmt_value(param.default, node.unit)}")
        out.append(f"{PARAM_NAMES.get(name, name)}：{'；'.join(parts)}")
    return out


@login_required
def framework_detail(request: HttpRequest, code: str, label: str) -> HttpResponse:
    require(request.user, Action.READ, FrameworkVersion)
    version = _version(code, label)
    fw = services.framework_of(version)
    rows = []
    levels = fw.levels
    for node in fw.walk():
        rows.append(
            {
                "node": node,
                "indent": node.depth - 1,
                "level": levels[min(node.depth, len(levels)) - 1],
                "direction": DIRECTIONS.get(node.direction, "") if node.is_leaf else "",
                "rule_name": RULES[node.rule_type].name if node.rule else "",
                "rule": describe(node.rule, node.unit) if node.rule else "",
            "by_class": _class_tables(fw, node),
                "formula": node.formula,
            }
        )
    others = FrameworkVersion.objects.filter(framework=version.framework).order_by("created_at")
    return render(
        request,
        "assessment/framework.html",
        {
            "version": version,
            "fw": fw,
            "rows": rows,
            "others": others,
            "profile": list(fw.profile.values()),
            "grades": fw.grades,
        },
    )


@login_required
def framework_file(request: HttpRequest, code: str, label: str, kind: str) -> HttpResponse:
    require(request.user, Action.READ, FrameworkVersion)
    version = _version(code, label)
    if kind not in ("yaml", "xlsx"):
        raise Http404
    data = services.framework_bytes(version, kind)
    content_type = XLSX if kind == "xlsx" else "application/yaml; charset=utf-8"
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=f"{version}.{kind}", content_type=content_type)
