from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("core.urls")),
    path("accounts/", include("accounts.urls")),
    path("cases/", include("casebank.urls")),
    path("", include("interviews.urls")),
    path("", include("scorecards.urls")),
    path("groups/", include("groups.urls")),
    path("profile/", include("accounts.profile_urls")),
    path("admin/", admin.site.urls),
]
