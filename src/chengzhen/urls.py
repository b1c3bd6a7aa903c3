from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from chengzhen.ledger import import_views
from chengzhen.ledger import views as ledger_views
from chengzhen.org.login import AdminLockoutAuthenticationForm, LockoutAuthenticationForm

admin.site.login_form = AdminLockoutAuthenticationForm
admin.site.site_header = admin.site.site_title = _("城镇 · 管理后台")

urlpatterns = [
    path("", ledger_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(authentication_form=LockoutAuthenticationForm),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the header's switch
    path("ledger/", include("chengzhen.ledger.urls")),
    path("supervision/", include("chengzhen.supervision.urls")),
    path("assessment/", include("chengzhen.assessment.urls")),
    path("lifecircle/", include("chengzhen.lifecircle.urls")),
    path("jobs/<int:pk>/", import_views.job_page, name="job"),
    path("jobs/<int:pk>/download/", import_views.job_download, name="job_download"),
    path("api/", include("chengzhen.api_urls")),
    path("admin/", admin.site.urls),
]
