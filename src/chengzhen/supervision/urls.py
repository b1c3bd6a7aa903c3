from django.urls import include, path

from . import views

app_name = "supervision"
urlpatterns = [
    path("", views.escalation_list, name="escalations"),
    path("escalation/<int:pk>/", views.escalation_detail, name="escalation"),
    path("escalation/<int:pk>/letter/", views.letter_file, name="letter"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("", include("chengzhen.supervision.bulletin_urls")),
    path("", include("chengzhen.supervision.inspection_urls")),
    path("", include("chengzhen.supervision.board_urls")),
]
