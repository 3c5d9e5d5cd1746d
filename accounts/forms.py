from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import User

from accounts import services
from accounts.models import MailKind
from accounts.usernames import fold_case, has_invisible, scripts_mixed, skeleton


def _look_alike_exists(username: str) -> bool:
    folded, looks = fold_case(username), skeleton(username)
    # A skeleton cannot be looked up in the database, so every name is compared: 0.1-0.2 s for
    # 10,000 accounts on a busy 2-core machine, less than hashing the new password costs, and
    # paid only by a sign-up that passed the other checks. Past some 100,000 accounts, store
    # the skeletons instead.
    names = User.objects.values_list("username", flat=True).iterator(chunk_size=2000)
    return any(fold_case(name) == folded or skeleton(name) == looks for name in names)


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

    def clean_username(self) -> str:
        # Django's field has applied NFKC; its clean_username refuses a name that differs from
        # another only in (ASCII) case.
        username = super().clean_username()
        if self.has_error("username"):
            return username
        if has_invisible(username):
            raise forms.ValidationError("Usernames cannot contain invisible or blank characters.")
        if mixed := scripts_mixed(username):
            raise forms.ValidationError(
                f"Use the letters of one alphabet: this name mixes {mixed}."
            )
        if _look_alike_exists(username):
            raise forms.ValidationError(
                "This name looks like an existing member's name. Choose another."
            )
        return username


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
