"""Pages of the assessment rounds (考核轮次) under /assessment/ (included by ``urls.py``)."""

from django.urls import path

from . import round_views as views

urlpatterns = [
    path("rounds/", views.round_list, name="rounds"),
    path("rounds/<str:code>/", views.round_board, name="round"),
    path("rounds/<str:code>/gather/", views.round_gather, name="round_gather"),
    path("rounds/<str:code>/score/", views.round_score, name="round_score"),
    path("rounds/<str:code>/publish/", views.round_publish, name="round_publish"),
    path("rounds/<str:code>/report/<str:kind>/", views.round_report, name="round_report"),
    path("rounds/<str:code>/todo/<str:unit_code>/", views.todo, name="todo"),
    path("rounds/<str:code>/todo/<str:unit_code>/template/", views.todo_template, name="todo_template"),
    path("rounds/<str:code>/todo/<str:unit_code>/import/", views.todo_import, name="todo_import"),
    path("rounds/<str:code>/queue/", views.queue, name="queue"),
    path("rounds/<str:code>/scorecard/<str:unit_code>/", views.scorecard, name="scorecard"),
    path("rounds/<str:code>/ranking/", views.ranking, name="ranking"),
    path("evidence/<int:pk>/", views.evidence_file, name="value_evidence"),
]
