from django.urls import path

from interviews import board_views, views

app_name = "interviews"
urlpatterns = [
    path("sessions/", views.session_list, name="list"),
    path("sessions/new/", views.create_session, name="create"),
    path("sessions/<int:session_id>/", views.room, name="room"),
    path("sessions/<int:session_id>/state/", views.state, name="state"),
    path("sessions/<int:session_id>/control/", views.control, name="control"),
    path("sessions/<int:session_id>/invite/", views.invite, name="invite"),
    path("sessions/<int:session_id>/case/", views.change_case, name="change_case"),
    path("sessions/<int:session_id>/notes/<int:step>/", views.save_notes, name="notes"),
    path("sessions/<int:session_id>/marks/", views.mark_item, name="mark"),
    path("sessions/<int:session_id>/facts/<int:fact_id>/", views.reveal_fact, name="fact"),
    path(
        "sessions/<int:session_id>/steps/<int:step>/comment/",
        views.save_comment,
        name="comment",
    ),
    path("sessions/<int:session_id>/steps/<int:step>/hints/", views.add_hint, name="hint"),
    path("sessions/<int:session_id>/summary/", views.summary, name="summary"),
    path("sessions/<int:session_id>/call-link/", views.set_call_link, name="call_link"),
    path("sessions/<int:session_id>/time/", views.propose_time, name="propose_time"),
    path("sessions/<int:session_id>/time/accept/", views.accept_time, name="accept_time"),
    path("sessions/<int:session_id>/no-show/", views.mark_no_show, name="no_show"),
    path("sessions/<int:session_id>/calendar.ics", views.calendar, name="calendar"),
    path("sessions/<int:session_id>/board.json", board_views.board_json, name="board"),
    # Tokens are URL-safe base64, so anything else (a NUL byte, a slash) never reaches the view.
    path("join/<slug:token>/", views.join, name="join"),
]
