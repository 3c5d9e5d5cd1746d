from django.urls import path

from groups import views

app_name = "groups"
urlpatterns = [
    path("", views.group_list, name="list"),
    path("<int:group_id>/", views.group_detail, name="detail"),
    path("<int:group_id>/progress/", views.group_progress, name="progress"),
    path("<int:group_id>/sharing/", views.share_progress, name="share"),
    path("<int:group_id>/invite/", views.invite, name="invite"),
    path("<int:group_id>/slots/", views.offer_slot, name="offer"),
    path("<int:group_id>/slots/<int:slot_id>/claim/", views.claim_slot, name="claim"),
    path("<int:group_id>/slots/<int:slot_id>/withdraw/", views.withdraw_slot, name="withdraw"),
    # Tokens are URL-safe base64, so anything else never reaches the view.
    path("join/<slug:token>/", views.join, name="join"),
]
