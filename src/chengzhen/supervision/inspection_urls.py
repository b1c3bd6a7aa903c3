"""Pages of inspections (督查调研), rectification (督查整改) and accountability records
(问责与表扬), included under /supervision/ (app ``supervision``)."""

from django.urls import path

from . import inspection_views as views

urlpatterns = [
    path("inspections/", views.inspection_list, name="inspections"),
    path("inspections/new/", views.inspection_new, name="inspection_new"),
    path("inspection/<int:pk>/", views.inspection_detail, name="inspection"),
    path("inspection/<int:pk>/rectification/new/", views.rectification_new, name="rectification_new"),
    path("inspection/photo/<int:pk>/", views.inspection_photo, name="inspection_photo"),
    path("accountabilities/", views.accountability_list, name="accountabilities"),
    path("accountabilities/new/", views.accountability_new, name="accountability_new"),
]
