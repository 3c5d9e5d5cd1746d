from django.contrib import admin

from interviews.models import Session


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["case", "interviewer", "candidate", "state", "length_minutes", "created_at"]
    list_filter = ["state", "length_minutes"]
    search_fields = ["case__title", "interviewer__username", "candidate__username"]
    list_select_related = ["case", "interviewer", "candidate"]
    readonly_fields = ["created_at", "finished_at"]
    raw_id_fields = ["interviewer", "candidate"]
