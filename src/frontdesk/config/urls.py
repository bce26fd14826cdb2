from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("frontdesk.accounts.urls")),
    path("", include("frontdesk.displays.urls")),
    path("", include("frontdesk.staffing.urls")),
    path("", include("frontdesk.queueing.urls")),
]
