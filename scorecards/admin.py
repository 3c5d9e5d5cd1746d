from django.contrib import admin
from django.http import HttpRequest

from scorecards.models import Rescore


@admin.register(Rescore)
class RescoreAdmin(admin.ModelAdmin):
    """Read-only: a re-score is a record of what a version gave; make a new one instead."""

    list_display = ["session", "rubric_version", "created_by", "created_at"]
    list_select_related = ["session__case", "rubric_version__rubric", "created_by"]
    readonly_fields = [
        "session",
        "rubric_version",
        "created_by",
        "created_at",
        "result",
        "unmapped_keys",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Rescore | None = None) -> bool:
        return False
