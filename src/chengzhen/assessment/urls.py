from django.urls import include, path

from . import designation_views, views

app_name = "assessment"
urlpatterns = [
    path("frameworks/", views.framework_list, name="frameworks"),
    path("frameworks/<str:code>@<str:label>/", views.framework_detail, name="framework"),
    path("frameworks/<str:code>@<str:label>/<str:kind>/", views.framework_file, name="framework_file"),
    path("", include("chengzhen.assessment.round_urls")),
    path("", include("chengzhen.assessment.fund_urls")),
    path("designations/", designation_views.designation_list, name="designations"),
    path("designations/<int:pk>/", designation_views.designation_detail, name="designation"),
]
