from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from chengzhen.assessment import api as assessment_api
from chengzhen.assessment import campaign_api, designation_api, fund_api, round_api
from chengzhen.ledger import api as ledger_api
from chengzhen.lifecircle import api as lifecircle_api
from chengzhen.org import api as org_api
from chengzhen.supervision import api as supervision_api
from chengzhen.supervision import board_api, bulletin_api, inspection_api

router = DefaultRouter()
router.register("divisions", org_api.DivisionViewSet, basename="division")
router.register("units", org_api.UnitViewSet, basename="unit")
router.register("people", org_api.PersonViewSet, basename="person")
router.register("programmes", org_api.ProgrammeViewSet, basename="programme")
router.register("targets", org_api.TargetViewSet, basename="target")
router.register("tasks", ledger_api.TaskViewSet, basename="task")
router.register("time-nodes", ledger_api.TimeNodeViewSet, basename="timenode")
router.register("reports", ledger_api.ReportViewSet, basename="report")
router.register("evidence", ledger_api.EvidenceViewSet, basename="evidence")
router.register("lights", supervision_api.LightViewSet, basename="light")
router.register("escalations", supervision_api.EscalationViewSet, basename="escalation")
router.register("notifications", supervision_api.NotificationViewSet, basename="notification")
for part in (bulletin_api, inspection_api, board_api, assessment_api, round_api, designation_api, fund_api,
             campaign_api, lifecircle_api):
    part.register(router)

@csrf_exempt  # it writes nothing; a JSON 404 even for a POST without a CSRF token
def not_found(request, rest=""):
    """Any other path under /api/ answers in JSON like the rest of the API."""
    return JsonResponse({"detail": _("未找到"), "errors": []}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include(router.urls)),
    re_path(r"^(?P<rest>[\s\S]*)$", not_found),  # any path, newlines included
]
