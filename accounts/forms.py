from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import User
from django.http import HttpRequest

from accounts import services


def client_ip(request: HttpRequest | None) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a proxy overwrites it, and
    # a forged header would let an attacker pick whose address gets throttled.
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=False,
        help_text="Optional. Only used to reset your password.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email and User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account already uses this e-mail address.")
        return email


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing to check passwords while the account is locked out."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": (
            "Too many failed sign-in attempts. For your safety, signing in is paused: "
            "try again in %(minutes)s."
        ),
    }

    locked_out = False

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        ip_address = client_ip(self.request)
        wait = services.lockout_remaining(username=username, ip_address=ip_address)
        if wait:
            self.locked_out = True
            minutes = max(1, (wait + 59) // 60)
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": f"{minutes} minute" + ("" if minutes == 1 else "s")},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username and self.cleaned_data.get("password"):
                services.record_login_failure(username=username, ip_address=ip_address)
            raise
        services.clear_login_failures(username=username)
        return cleaned
