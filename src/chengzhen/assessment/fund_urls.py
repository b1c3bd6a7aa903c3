"""Pages of the incentive funds (以奖代补资金) under /assessment/funds/ (included by ``urls.py``)."""

from django.urls import path

from . import fund_views as views

urlpatterns = [
    path("funds/", views.fund_list, name="funds"),
    path("funds/<str:code>/", views.fund_detail, name="fund"),
    path("funds/<str:code>/xlsx/", views.fund_file, name="fund_file"),
]
