from django.contrib import admin
from django.urls import path

from chengzhen import views

urlpatterns = [
    path("", views.start, name="start"),
    path("admin/", admin.site.urls),
]
