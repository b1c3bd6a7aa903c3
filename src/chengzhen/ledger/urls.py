from django.urls import path

from . import import_views, views

app_name = "ledger"
urlpatterns = [
    path("", views.task_list, name="list"),
    path("task/<int:pk>/", views.task_detail, name="task"),
    path("task/<int:pk>/report/", views.report_form, name="report"),
    path("node/<int:pk>/done/", views.node_done, name="node_done"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
    path("import/", import_views.import_page, name="import"),
    path("import/apply/", import_views.import_apply, name="import_apply"),
    path("export/", import_views.export_view, name="export"),
]
