from django.urls import path

from scorecards import views

app_name = "scorecards"
urlpatterns = [
    path("sessions/<int:session_id>/scorecard/", views.scorecard, name="scorecard"),
    path("sessions/<int:session_id>/scorecard.json", views.download_json, name="json"),
    path("sessions/<int:session_id>/scorecard.md", views.download_markdown, name="markdown"),
    path(
        "sessions/<int:session_id>/diagrams/<int:snapshot_id>.svg",
        views.diagram,
        name="diagram",
    ),
    path(
        "sessions/<int:session_id>/self-assessment/",
        views.save_self_assessment,
        name="self_assessment",
    ),
    path("sessions/<int:session_id>/self-assessment/mark/", views.mark_self, name="self_mark"),
    path(
        "sessions/<int:session_id>/self-assessment/skip/",
        views.skip_self_assessment,
        name="skip_self_assessment",
    ),
    path("sessions/<int:session_id>/rescores/", views.rescore_session, name="rescore"),
    path("sessions/<int:session_id>/swap/", views.swap_roles, name="swap"),
    path("progress/", views.progress_overview, name="progress"),
    path("progress/history.csv", views.progress_csv, name="progress_csv"),
]
