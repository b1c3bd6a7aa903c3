"""Pages of the bulletins (工作通报) under /supervision/."""

from django.urls import path

from . import bulletin_views as views

urlpatterns = [
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/new/", views.bulletin_new, name="bulletin_new"),
    path("bulletin/<int:pk>/", views.bulletin_detail, name="bulletin"),
    path("bulletin/<int:pk>/refresh/", views.bulletin_refresh, name="bulletin_refresh"),
    path("bulletin/<int:pk>/issue/", views.bulletin_issue, name="bulletin_issue"),
    path("bulletin/<int:pk>/<str:kind>/", views.bulletin_file, name="bulletin_file"),
]
