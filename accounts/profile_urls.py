from django.urls import path

from accounts import profile_views

# Its own namespace, so the profile and the sign-in pages (accounts.urls) change independently.
app_name = "profile"
urlpatterns = [
    path("", profile_views.edit_profile, name="edit"),
    path("time-zone/guess/", profile_views.guess_zone, name="guess_zone"),
]
