"""Import and export pages: upload → preview (a dry run) → apply, and the filtered list as
Excel. The preview remembers each previewed task's version; the apply is refused if any of
them changed in between, so nobody applies a preview that no longer describes the data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chengzhen.documents.files import EXPORTS, UPLOADS, new_file, stored_file
from chengzhen.documents.models import Job
from chengzhen.org.permissions import Action, can
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme

from .exporter import export_ledger
from .filters import TaskFilter
from .importer import import_ledger
from .jobs import imported_message, run_ledger_export, run_ledger_import
from .models import Task

SESSION_KEY = "ledger_import"


class ImportForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("工作计划"))
    file = forms.FileField(label=gettext_lazy("台账文件（.xlsx）"))


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    programmes = [p for p in Programme.objects.order_by("code")
                  if can(request.user, Action.IMPORT, p)]
    if not programmes:
        raise PermissionDenied(_("无权导入台账"))
    form = ImportForm(request.POST or None, request.FILES or None)
    form.fields["programme"].choices = [(p.code, p.name) for p in programmes]
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.CHENGZHEN_MAX_UPLOAD_BYTES:
            form.add_error("file", _("文件过大，上限 %(limit)s MB") % {
                "limit": settings.CHENGZHEN_MAX_UPLOAD_BYTES // 1048576})
            return render(request, "ledger/import.html", context)
        name, stored = new_file(UPLOADS)
        token = name.removesuffix(".xlsx")
        with stored.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        programme = next(p for p in programmes if p.code == form.cleaned_data["programme"])
        try:
            result = import_ledger(request.user, programme, stored, display_name=upload.name,
                                   dry_run=True)
        except Refused as exc:
            stored.unlink(missing_ok=True)
            context["problems"] = [str(p) for p in exc.problems]
            return render(request, "ledger/import.html", context)
        request.session[SESSION_KEY] = {
            "token": token, "programme": programme.code, "name": upload.name,
            "versions": result.versions, "at": timezone.now().isoformat(),
        }
        context.update(result=result, programme=programme, name=upload.name)
    return render(request, "ledger/import.html", context)


@login_required
@require_POST
def import_apply(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, _("没有待导入的预览，或预览已过期，请重新上传。"))
        return redirect("ledger:import")
    stored = stored_file(UPLOADS, f"{pending['token']}.xlsx")
    programme = Programme.objects.filter(code=pending["programme"]).first()
    if programme is None or stored is None or not stored.exists():
        messages.error(request, _("预览的文件或工作计划已不存在，请重新上传。"))
        return redirect("ledger:import")
    if len(pending["versions"]) >= settings.CHENGZHEN_IMPORT_JOB_ROWS:
        # thousands of rows: the worker applies it, the page shows its progress
        job = Job.objects.create(kind="ledger_import", user=request.user,
                                 stage=gettext_noop("排队等待"),
                                 params={**pending, "path": str(stored), "language": get_language()})
        run_ledger_import.enqueue(job.pk)
        del request.session[SESSION_KEY]
        return redirect("job", pk=job.pk)
    try:
        result = import_ledger(request.user, programme, stored, display_name=pending["name"],
                               expected_versions=pending["versions"])
    except Refused as exc:
        for p in exc.problems:
            messages.error(request, str(p))
        return redirect("ledger:import")
    stored.unlink(missing_ok=True)
    del request.session[SESSION_KEY]
    messages.success(request, imported_message(pending["name"], result))
    return redirect(f"/ledger/?programme={programme.code}")


def _export_name(programme) -> str:
    """The download's name: Chinese in either language, like the sheet inside (the file format)."""
    return f"{programme.name if programme else '重点工作'}台账-{timezone.localdate():%Y%m%d}.xlsx"


@login_required
def export_view(request: HttpRequest) -> HttpResponse:
    """The filtered list as Excel: at once for a few rows, through the worker (with a
    progress page and a download at the end) from ``CHENGZHEN_EXPORT_JOB_ROWS`` rows on."""
    f = TaskFilter.from_params(request.GET)
    programme = Programme.objects.filter(code=f.programme).first() if f.programme else None
    if programme is not None and not can(request.user, Action.EXPORT, programme):
        raise PermissionDenied(_("无权导出该计划的台账"))
    tasks = f.apply(Task.objects.all(), request.user)
    if tasks.count() >= settings.CHENGZHEN_EXPORT_JOB_ROWS:
        job = Job.objects.create(kind="ledger_export", user=request.user, stage=gettext_noop("排队等待"),
                                 params={"query": f.querystring(),
                                         "programme": programme.code if programme else "",
                                         "name": _export_name(programme), "language": get_language()})
        run_ledger_export.enqueue(job.pk)
        return redirect("job", pk=job.pk)
    out = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    out.close()
    export_ledger(request.user, programme, out.name, queryset=Task.objects.filter(
        pk__in=tasks.values("pk")))
    response = FileResponse(open(out.name, "rb"), as_attachment=True,  # noqa: SIM115
                            filename=_export_name(programme))
    Path(out.name).unlink()  # the open handle keeps the data until the response is sent
    return response


def _own_job(request: HttpRequest, pk: int) -> Job:
    job = Job.objects.filter(pk=pk).first()
    if job is None or (job.user_id != request.user.pk and not request.user.is_superuser):
        raise Http404
    return job


@login_required
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A background job's progress; only the person who started it (or an admin) sees it."""
    job = _own_job(request, pk)
    path = stored_file(EXPORTS, job.params.get("file", ""))
    return render(request, "job.html", {"job": job, "file_ready": bool(path and path.exists()),
                                        "keep_hours": settings.CHENGZHEN_EXPORT_KEEP_HOURS})


@login_required
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file a finished export job wrote, to the person who started it only."""
    job = _own_job(request, pk)
    path = stored_file(EXPORTS, job.params.get("file", "")) if job.status == Job.Status.DONE else None
    if path is None or not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), as_attachment=True, filename=job.params["name"])
    response["X-Content-Type-Options"] = "nosniff"
    return response
