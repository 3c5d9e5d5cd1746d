from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import User

from accounts import services
from accounts.models import MailKind


class SignupForm(auth_forms.UserCreationForm):
    email = forms.EmailField(
        required=False,
        help_text="Optional. Only used to reset your password.",
    )

    class Meta(auth_forms.UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    # No check that the e-mail address is free: saying so would tell anyone which addresses
    # have accounts. accounts.services.sign_up deals with an address in use.


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, mailing only the accounts the mail limits allow.

    Whatever it mails, the view answers the same, so nobody learns whether an account uses the
    address or whether a limit held the mail back.
    """

    def __init__(self, *args: Any, ip_address: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ip_address = ip_address

    def get_users(self, email: str) -> list[User]:
        # Called once, by save(), for the accounts to mail.
        return services.claim_account_mails(
            kind=MailKind.PASSWORD_RESET,
            accounts=super().get_users(email),
            ip_address=self.ip_address,
        )
