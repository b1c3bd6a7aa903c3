from django.urls import include, path

from . import campaign_views, designation_views, views

app_name = "assessment"
urlpatterns = [
    path("frameworks/", views.framework_list, name="frameworks"),
    path("frameworks/<str:code>@<str:label>/", views.framework_detail, name="framework"),
    path("frameworks/<str:code>@<str:label>/<str:kind>/", views.framework_file, name="framework_file"),
    path("", include("chengzhen.assessment.round_urls")),
    path("", include("chengzhen.assessment.fund_urls")),
    path("designations/", designation_views.designation_list, name="designations"),
    path("designations/<int:pk>/", designation_views.designation_detail, name="designation"),
    path("joint/", campaign_views.plan_list, name="joint_plans"),
    path("joint/matches/", campaign_views.matches, name="joint_matches"),
    path("joint/<str:code>/", campaign_views.plan_detail, name="joint_plan"),
    path("joint/<str:code>/rerun/", campaign_views.plan_rerun, name="joint_rerun"),
    path("joint/<str:code>/settle/", campaign_views.plan_settle, name="joint_settle"),
    path("joint/<str:code>/tasks/", campaign_views.plan_tasks, name="joint_tasks"),
    path("joint/<str:code>/file/", campaign_views.plan_file, name="joint_file"),
]
