from django.contrib import admin

from accounts.models import LoginFailure


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["username", "ip_address", "created_at"]
    search_fields = ["username", "ip_address"]
    list_filter = ["created_at"]
    readonly_fields = ["username", "ip_address", "created_at"]
