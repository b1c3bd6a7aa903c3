from django.urls import path

from . import views

app_name = "lifecircle"
urlpatterns = [
    path("", views.study_list, name="studies"),
    path("<str:code>/", views.study_detail, name="study"),
    path("<str:code>/run/", views.study_run, name="run"),
    path("<str:code>/publish/", views.study_publish, name="publish"),
    path("<str:code>/submit/", views.study_submit, name="submit"),
    path("<str:code>/layers/<str:name>.geojson", views.study_layer, name="layer"),
    path("<str:code>/files/<path:name>", views.study_file, name="file"),
]
