from django.contrib import admin
from django.http import HttpRequest

from interviews.models import Session


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    """View only: a session is the record of an interview. Its state, stamps and stored result
    are kept in sync by interviews.services, and editing them here would let a finished session
    be re-marked or a digest be replaced with something the pages cannot read. Staff can still
    delete a session."""

    list_display = ["case", "interviewer", "candidate", "state", "length_minutes", "created_at"]
    list_filter = ["state", "length_minutes"]
    search_fields = ["case__title", "interviewer__username", "candidate__username"]
    list_select_related = ["case", "interviewer", "candidate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False
