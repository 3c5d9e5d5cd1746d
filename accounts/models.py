from django.conf import settings
from django.db import models

# The profile lives in its own module; importing it here is how Django finds the model.
from accounts.profile_models import Profile  # noqa: F401


class MailKind(models.TextChoices):
    PASSWORD_RESET = "password_reset", "Password reset"
    SIGNUP_ADDRESS_TAKEN = "signup_address_taken", "Sign-up with an address in use"


class MailRequest(models.Model):
    """One request from a client that may send mail to an account: the mail limits count these.

    `account` is the account mailed, or null when the request mailed nobody (no account uses
    the address, or that account had its fill of mail). Rows older than the window are pruned
    by accounts.services.claim_account_mails, the only writer.
    """

    kind = models.CharField(max_length=32, choices=MailKind)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            # claim_account_mails(): requests from one address, and mails to one account, since
            # the start of the window.
            models.Index(fields=["ip_address", "created_at"], name="mailrequest_ip_time"),
            models.Index(fields=["account", "created_at"], name="mailrequest_account_time"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} from {self.ip_address} at {self.created_at:%Y-%m-%d %H:%M}"
        )
