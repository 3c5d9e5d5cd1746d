from django.contrib import admin

from groups.models import Membership, Slot, StudyGroup


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(StudyGroup)
class StudyGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["invite_token", "created_at"]
    inlines = [MembershipInline]


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ["group", "starts_at", "offered_by", "role", "claimed_by"]
    list_filter = ["role", "level", "domain"]
    search_fields = ["group__name", "offered_by__username", "claimed_by__username"]
    raw_id_fields = ["group", "offered_by", "claimed_by", "session"]
