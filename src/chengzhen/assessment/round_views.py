"""Assessment round pages (考核轮次): the list, the progress board with 平台取数 / 评分 / 公布, a
subject's to-do (填报 with evidence, the Excel template), the verifier's queue (核查), the
scorecard and the ranking, and the downloads. Thin shells over ``rounds`` (every action and its
checks) and the permission function: every refusal is shown as a message."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chengzhen.assessment.explain import fmt_score
from chengzhen.documents.files import upload_on_disk
from chengzhen.ledger.services import StaleEdit
from chengzhen.ledger.views import MultipleFileField
from chengzhen.org.access import ADMIN, LEADER, SUPERVISOR
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can, grants_for
from chengzhen.problems import Refused

from . import rounds
from .measures import MEASURES
from .models import Round, RoundStatus, RoundSubject, Value, ValueEvidence

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- who sees what (the permission function's answers, combined as the pages need them) -------

def oversees(user) -> bool:
    """Supervisors, administrators and leaders: the rounds' progress boards (as ``visible_rounds``
    shows them every round)."""
    return any(g.role in (ADMIN, SUPERVISOR, LEADER) for g in grants_for(user))


def may_rank(user, r: Round) -> bool:
    """The ranking: supervisors and administrators always; after publication leaders, and
    everyone when the round is public."""
    if can(user, Action.EDIT, Round):
        return True
    return r.published and (r.public or any(g.role == LEADER for g in grants_for(user)))


def may_download(user, r: Round, kind: str) -> bool:
    """The ranking (.xlsx) goes with the ranking; the report (.docx, the 考核结果通报 addressed to
    the subjects) also to a subject's people once published."""
    if may_rank(user, r):
        return True
    if kind != "docx" or not r.published:
        return False
    return any(rounds.may_see(user, r, u) for u in rounds.subjects_of(r))


def reporting_units(user, r: Round) -> list[Unit]:
    """The round's subjects the person may report values for."""
    return [u for u in rounds.subjects_of(r) if can(user, Action.REPORT, Value(subject=u))]


def change_text(change: int | None, previous_rank: int | None, has_previous: bool) -> str:
    """排名变化: ↑n, ↓n, 持平, 新参评 (no previous scored round: —)."""
    if not has_previous:
        return "—"
    if previous_rank is None or change is None:
        return _("新参评")
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return _("持平")


def has_previous(r: Round) -> bool:
    return bool(r.previous_id and r.previous.scoring_id)


# ---- lookups ---------------------------------------------------------------------------------

def _round(request: HttpRequest, code: str) -> Round:
    """A round the person sees, else 404."""
    if "\x00" in code or not rounds.visible_rounds(request.user).filter(code=code).exists():
        raise Http404(_("没有该考核轮次"))
    return rounds.round_of(code)


def _subject(r: Round, unit_code: str) -> Unit:
    """One of the round's subjects, else 404."""
    link = None
    if "\x00" not in unit_code:
        link = RoundSubject.objects.filter(round=r, unit__code=unit_code).select_related("unit").first()
    if link is None:
        raise Http404(_("该单位不是本轮考核对象"))
    return link.unit


def show_refusal(request: HttpRequest, exc: Exception) -> None:
    """A refusal as messages: each problem of a Refused, else the exception's text."""
    if isinstance(exc, Refused):
        for p in exc.problems:
            messages.error(request, str(p))
    else:
        messages.error(request, str(exc) or _("无权执行该操作"))


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("expected_version", ""))
    except ValueError:
        return -1  # unreadable: refused as stale by the service


# ---- 1. the rounds ---------------------------------------------------------------------------

class RoundForm(forms.Form):
    """A new round (新建考核轮次): what ``chengzhen round create`` asks for."""

    code = forms.CharField(label=gettext_lazy("轮次代码"), max_length=40,
                           help_text=gettext_lazy("字母、数字、- 和 _，如 ZDZ-2026-12"))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=200)
    framework = forms.ChoiceField(label=gettext_lazy("测评体系版本"))
    year = forms.IntegerField(label=gettext_lazy("对象属性年度"), min_value=2000, max_value=2100)
    period_from = forms.DateField(label=gettext_lazy("考核期起"), widget=forms.DateInput(attrs={"type": "date"}))
    period_to = forms.DateField(label=gettext_lazy("考核期止"), widget=forms.DateInput(attrs={"type": "date"}))
    submit_by = forms.DateField(label=gettext_lazy("填报截止"), widget=forms.DateInput(attrs={"type": "date"}))
    verify_by = forms.DateField(label=gettext_lazy("核查截止"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    units = forms.MultipleChoiceField(label=gettext_lazy("考核对象（不选则沿用上一轮的对象）"), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    programme = forms.ChoiceField(label=gettext_lazy("取数计划"), required=False)
    previous = forms.ChoiceField(label=gettext_lazy("上一轮"), required=False)
    public = forms.BooleanField(label=gettext_lazy("结果公开（公布后各对象可看到全部得分和排名）"), required=False)
    issuer = forms.CharField(label=gettext_lazy("发文机关"), max_length=100, required=False)
    requirements = forms.CharField(label=gettext_lazy("下步工作要求"), required=False, widget=forms.Textarea(
        attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        from chengzhen.assessment.models import FrameworkVersion
        from chengzhen.programmes.models import Programme

        super().__init__(*args, **kwargs)
        self.fields["framework"].choices = [
            (str(v), f"{v} {v.name}") for v in FrameworkVersion.objects.select_related("framework").order_by(
                "framework__code", "-created_at")]
        groups: dict[str, list] = {}
        assessed = ["town", "street", "department", "other"]  # towns first: most rounds assess them
        for kind in assessed:
            for u in Unit.objects.filter(kind=kind).order_by("code"):
                groups.setdefault(u.get_kind_display(), []).append((u.code, f"{u.short_name or u.name}（{u.code}）"))
        self.fields["units"].choices = list(groups.items())
        blank = [("", "—")]
        self.fields["programme"].choices = blank + [(p.code, p.name) for p in Programme.objects.order_by("code")]
        self.fields["previous"].choices = blank + [(r.code, str(r)) for r in Round.objects.order_by("-period_to")]


def _new_round_initial() -> dict:
    """The form's defaults: this year, and the latest round's framework as the next one's."""
    initial = {"year": timezone.localdate().year}
    latest = Round.objects.select_related("framework_version__framework").order_by("-period_to", "-pk").first()
    if latest is not None:
        initial.update(framework=str(latest.framework_version), previous=latest.code,
                       programme=latest.programme.code if latest.programme_id else "", issuer=latest.issuer)
    return initial


def _create_round(request: HttpRequest, form: RoundForm) -> Round | None:
    from chengzhen.programmes.models import Programme

    d = form.cleaned_data
    previous = Round.objects.filter(code=d["previous"]).first() if d["previous"] else None
    units = d["units"] or ([u.code for u in rounds.subjects_of(previous)] if previous else [])
    try:
        return rounds.create_round(
            request.user, code=d["code"].strip(), name=d["name"], framework_name=d["framework"],
            unit_codes=units, year=d["year"], period_from=d["period_from"], period_to=d["period_to"],
            submit_by=d["submit_by"], verify_by=d["verify_by"],
            programme=Programme.objects.filter(code=d["programme"]).first() if d["programme"] else None,
            previous=previous, public=d["public"], issuer=d["issuer"], requirements=d["requirements"])
    except (Refused, PermissionDenied) as exc:
        show_refusal(request, exc)
        return None


def show_form_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for e in errors:
            messages.error(request, f"{label}：{e}" if label else e)


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    """The rounds a person sees; for those who may set one up, the form for a new round (POST)."""
    user = request.user
    may_create = can(user, Action.EDIT, Round)
    form, status = None, 200
    if may_create:
        form = RoundForm(request.POST or None, initial=_new_round_initial())
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied(_("%(user)s 无权建立考核轮次") % {"user": user})
        if form.is_valid() and (r := _create_round(request, form)) is not None:
            messages.success(request, _("已建立考核轮次 %(code)s：%(n)s 个考核对象。") % {
                "code": r.code, "n": r.subjects.count()})
            return redirect("assessment:round", code=r.code)
        if form.errors:
            show_form_errors(request, form)
        status = 400
    board = oversees(user)
    items = []
    for r in rounds.visible_rounds(user).select_related("previous").order_by("-period_to", "code"):
        mine = [] if board else reporting_units(user, r)
        cards = [] if board or r.scoring_id is None else [u for u in mine if rounds.may_see(user, r, u)]
        items.append({"round": r, "mine": mine, "cards": cards, "board": board,
                      "queue": can(user, Action.EDIT, Value), "ranking": r.scoring_id and may_rank(user, r)})
    from .designation_services import at_risk

    return render(request, "assessment/rounds.html", {"items": items, "form": form, "open_form": status == 400,
                                                      "at_risk": len(at_risk(user))}, status=status)


# ---- 2. the progress board and its actions ---------------------------------------------------

@login_required
def round_board(request: HttpRequest, code: str) -> HttpResponse:
    r = _round(request, code)
    if not oversees(request.user):
        mine = reporting_units(request.user, r)
        if mine:
            return redirect("assessment:todo", code=r.code, unit_code=mine[0].code)
        raise PermissionDenied(_("进度看板仅供督查、管理和领导查看"))
    rows = rounds.progress(r)
    for row in rows:
        row["todo"] = can(request.user, Action.REPORT, Value(subject=row["unit"]))
        row["card"] = r.scoring_id is not None and rounds.may_see(request.user, r, row["unit"])
    figures = ("expected", "submitted", "accepted", "returned", "missing", "late")
    totals = {k: sum(row[k] for row in rows) for k in figures}
    from .models import DesignationEvent

    changes = (DesignationEvent.objects.filter(round=r).exclude(from_state=F("to_state"))
               .select_related("designation__unit", "designation__rule").order_by("designation__unit__code"))
    return render(request, "assessment/round.html", {
        "r": r, "rows": rows, "totals": totals, "changes": changes, "can_edit": can(request.user, Action.EDIT, Round),
        "queue": can(request.user, Action.EDIT, Value), "ranking": r.scoring_id and may_rank(request.user, r),
        "downloads": r.scoring_id is not None and may_download(request.user, r, "xlsx"),
    })


def _board_action(request: HttpRequest, code: str, act) -> HttpResponse:
    r = _round(request, code)
    try:
        done = act(r)
    except (Refused, StaleEdit, PermissionDenied) as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, done)
    return redirect("assessment:round", code=r.code)


@login_required
@require_POST
def round_gather(request: HttpRequest, code: str) -> HttpResponse:
    def act(r):
        c = rounds.gather_platform_values(request.user, r)
        return _("平台取数完成：新增 %(new)s 项，更新 %(changed)s 项，未变 %(unchanged)s 项，无法计算 %(none)s 项；"
                 "取得的数值待核查。") % {k: c.get(k, 0) for k in ("new", "changed", "unchanged", "none")}
    return _board_action(request, code, act)


@login_required
@require_POST
def round_score(request: HttpRequest, code: str) -> HttpResponse:
    def act(r):
        scored = rounds.score_round(request.user, r)
        if scored.reproduced:
            return _("复核一致：重新计算 %(n)s 个考核对象的得分，与已公布的结果完全相同。") % {
                "n": scored.scoring.subjects}
        return _("已评分：%(n)s 个考核对象（按已核查的数值），测评体系版本已冻结。") % {"n": scored.scoring.subjects}
    return _board_action(request, code, act)


@login_required
@require_POST
def round_publish(request: HttpRequest, code: str) -> HttpResponse:
    def act(r):
        rounds.publish_round(request.user, r, expected_version=_version(request))
        return _("已公布：各考核对象可查看本单位的评分明细。")
    return _board_action(request, code, act)


@login_required
def round_report(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    if kind not in ("docx", "xlsx"):
        raise Http404
    r = _round(request, code)
    if not may_download(request.user, r, kind):
        raise PermissionDenied(_("无权下载本轮考核结果"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            docx, xlsx = rounds.report_files(r, tmp)
            path = docx if kind == "docx" else xlsx
            data, name = path.read_bytes(), path.name
    except Refused as exc:
        show_refusal(request, exc)
        return redirect("assessment:rounds")
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=name,
                        content_type=DOCX if kind == "docx" else XLSX)


# ---- 3. a subject's to-do --------------------------------------------------------------------

class ValueForm(forms.Form):
    node = forms.CharField(label=gettext_lazy("指标"), max_length=40)
    input = forms.CharField(label=gettext_lazy("取值项"), max_length=60)
    amount = forms.CharField(label=gettext_lazy("数值"), max_length=40)
    unit = forms.CharField(label=gettext_lazy("单位"), max_length=30, required=False)
    evidence = forms.CharField(label=gettext_lazy("佐证说明"), max_length=5000, required=False)
    expected_version = forms.IntegerField(required=False)
    files = MultipleFileField(label=gettext_lazy("佐证材料"), required=False)


class TemplateForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("填好的数值填报表（.xlsx）"))


def _todo_subject(request: HttpRequest, code: str, unit_code: str) -> tuple[Round, Unit]:
    r = _round(request, code)
    unit = _subject(r, unit_code)
    if not can(request.user, Action.REPORT, Value(subject=unit)):
        raise PermissionDenied(_("%(user)s 无权填报 %(unit)s 的考核数值") % {"user": request.user, "unit": unit})
    return r, unit


@login_required
def todo(request: HttpRequest, code: str, unit_code: str) -> HttpResponse:
    r, unit = _todo_subject(request, code, unit_code)
    posted, status = {}, 200
    if request.method == "POST":
        form = ValueForm(request.POST, request.FILES)
        if not form.is_valid():
            show_form_errors(request, form)
            status = 400
        else:
            d = form.cleaned_data
            try:
                value = rounds.submit_value(
                    request.user, r, unit, d["node"], d["input"], d["amount"], unit=d["unit"],
                    evidence=d["evidence"], files=[(f.name, f.read()) for f in d["files"]],
                    expected_version=d["expected_version"])
            except (Refused, StaleEdit) as exc:
                show_refusal(request, exc)
                posted, status = {(d["node"], d["input"]): d}, 400
            else:
                fw = rounds.framework(r)
                messages.success(request, _("已报送 %(path)s：%(amount)s %(unit)s，待核查。") % {
                    "path": fw.path_label(value.node, with_framework=False), "amount": d["amount"],
                    "unit": value.unit})
                return redirect(reverse("assessment:todo", args=[r.code, unit.code]) + f"#v{value.pk}")
    fw = rounds.framework(r)
    rows = []
    todo_rows = rounds.todo(r, unit)
    history = rounds.history([row.value for row in todo_rows if row.value])
    for row in todo_rows:
        measure = MEASURES.get(row.node.measure) if row.node.measure else None
        rows.append({"row": row, "path": fw.path_label(row.node.code, with_framework=False),
                     "measure": measure, "files": list(row.value.files.all()) if row.value else [],
                     "history": history.get(row.value.pk, []) if row.value else [],
                     "posted": posted.get((row.node.code, row.input_code))})
    return render(request, "assessment/todo.html", {
        "r": r, "unit": unit, "rows": rows, "open": r.status == RoundStatus.COLLECTING,
        "card": r.scoring_id is not None and rounds.may_see(request.user, r, unit),
    }, status=status)


@login_required
def todo_template(request: HttpRequest, code: str, unit_code: str) -> HttpResponse:
    r, unit = _todo_subject(request, code, unit_code)
    with tempfile.TemporaryDirectory() as tmp:
        path = rounds.write_template(r, unit, Path(tmp) / "template.xlsx")
        data = path.read_bytes()
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=f"{r.code}-{unit.code}-数值填报.xlsx",
                        content_type=XLSX)


@login_required
@require_POST
def todo_import(request: HttpRequest, code: str, unit_code: str) -> HttpResponse:
    r, unit = _todo_subject(request, code, unit_code)
    form = TemplateForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择填好的数值填报表（.xlsx）"))
        return redirect("assessment:todo", code=r.code, unit_code=unit.code)
    upload = form.cleaned_data["file"]
    with upload_on_disk(upload) as path:
        try:
            n = rounds.import_template(request.user, r, unit, path, upload.name)
        except (Refused, StaleEdit) as exc:
            show_refusal(request, exc)
        else:
            messages.success(request, _("已从 %(name)s 报送 %(n)s 项数值，待核查。") % {"name": upload.name, "n": n})
    return redirect("assessment:todo", code=r.code, unit_code=unit.code)


# ---- 4. the verifier's queue -----------------------------------------------------------------

@login_required
def queue(request: HttpRequest, code: str) -> HttpResponse:
    r = _round(request, code)
    if not can(request.user, Action.EDIT, Value):
        raise PermissionDenied(_("核查队列仅供督查人员查看"))
    if request.method == "POST":
        return _verify(request, r)
    fw = rounds.framework(r)
    page = Paginator(rounds.queue(request.user, r), 100).get_page(request.GET.get("page"))
    history = rounds.history(list(page.object_list))
    items = [{"value": v, "path": fw.path_label(v.node, with_framework=False), "files": list(v.files.all()),
              "history": history.get(v.pk, [])} for v in page.object_list]
    return render(request, "assessment/queue.html", {"r": r, "page": page, "items": items,
                                                     "open": r.status == RoundStatus.COLLECTING})


def _verify(request: HttpRequest, r: Round) -> HttpResponse:
    try:
        pk = int(request.POST.get("value", ""))
    except ValueError:
        raise Http404 from None
    value = rounds.values_for(request.user, r).filter(pk=pk).first()
    if value is None:
        raise Http404
    accept = request.POST.get("decision") == "accept"
    fw = rounds.framework(r)
    what = f"{value.subject.short_name or value.subject.name} {fw.path_label(value.node, with_framework=False)}"
    try:
        rounds.verify_value(request.user, value, accept=accept, expected_version=_version(request),
                            reason=request.POST.get("reason", ""))
    except (Refused, StaleEdit, PermissionDenied) as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, (_("已核查：%(what)s") if accept else _("已退回：%(what)s")) % {"what": what})
    target = reverse("assessment:queue", args=[r.code])
    page = request.POST.get("page", "")
    return redirect(target + (f"?page={page}" if page.isdigit() else ""))


@login_required
def evidence_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A value's evidence file, to those who may read the value only, always as a download."""
    from chengzhen.ledger.services import evidence_path

    item = ValueEvidence.objects.select_related("value__subject").filter(pk=pk).first()
    if item is None or not can(request.user, Action.READ, item):
        raise Http404
    path = evidence_path(item.stored_name)
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), as_attachment=True, filename=item.name, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ---- 5. a scorecard, 6. the ranking ----------------------------------------------------------

def _scorecard_rows(rows: list[dict]) -> str:
    """The scorecard's table body, built here rather than in the template: a framework of 1,000
    indicators made the template loop and its number filters most of the page's time."""
    def points(node) -> str:
        return fmt_score(node.points) if node.awards_points else "—"

    return format_html_join("\n", (
        '<tr class="depth-{}{}" data-code="{}"><td>{}</td><td style="padding-left: {}.5em">{}</td>'
        '<td class="num score">{}</td><td class="num">{}</td><td class="sentence">{}</td></tr>'), (
        (row["node"].depth - 1, "" if row["leaf"] else " branch", row["node"].code, row["node"].code,
         row["node"].depth - 1, row["node"].name, "—" if row["score"] is None else fmt_score(row["score"]),
         points(row["node"]), row.get("sentence", "") if row["leaf"] else "")
        for row in rows))


@login_required
def scorecard(request: HttpRequest, code: str, unit_code: str) -> HttpResponse:
    r = _round(request, code)
    unit = _subject(r, unit_code)
    if not rounds.may_see(request.user, r, unit):
        raise Http404(_("没有可查看的评分明细"))
    card = rounds.scorecard(r, unit)
    rows = ""
    if card is not None:
        rows = _scorecard_rows(card["rows"])
        result = card["result"]
        change = None if card["previous_rank"] is None else card["previous_rank"] - result.rank
        card["change"] = change_text(change, card["previous_rank"], has_previous(r))
    return render(request, "assessment/scorecard.html", {
        "r": r, "unit": unit, "card": card, "rows": rows, "has_previous": has_previous(r),
        "ranking": r.scoring_id and may_rank(request.user, r), "report": may_download(request.user, r, "docx"),
        "todo": can(request.user, Action.REPORT, Value(subject=unit)),
    })


@login_required
def ranking(request: HttpRequest, code: str) -> HttpResponse:
    r = _round(request, code)
    if not may_rank(request.user, r):
        raise PermissionDenied(_("本轮排名尚未公布或不公开"))
    rows = rounds.ranking(r)
    units = {u.code: u for u in rounds.subjects_of(r)}
    prev = has_previous(r)
    for row in rows:
        unit = units.get(row["subject"])
        row["change_text"] = change_text(row["change"], row["previous_rank"], prev)
        row["card"] = unit is not None and rounds.may_see(request.user, r, unit)
    return render(request, "assessment/ranking.html", {
        "r": r, "rows": rows, "has_previous": prev,
        "downloads": r.scoring_id is not None and may_download(request.user, r, "xlsx")})
