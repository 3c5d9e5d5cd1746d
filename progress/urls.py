from django.urls import path

from progress import views

app_name = "progress"
urlpatterns = [
    path("progress/", views.overview, name="overview"),
    path("progress/history.csv", views.history_csv, name="csv"),
]
