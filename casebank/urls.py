from django.urls import path

from casebank import views

app_name = "casebank"
urlpatterns = [
    path("", views.case_library, name="library"),
    path("<slug:slug>/", views.case_detail, name="detail"),
]
