from django.db import models

# The profile lives in its own module; importing it here is how Django finds the model.
from accounts.profile_models import Profile  # noqa: F401


class LoginFailure(models.Model):
    """One failed sign-in. Rows live in the database so every worker process sees the same count.

    Written by accounts.services.record_login_failure, cleared by clear_login_failures.
    """

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            # lockout_remaining(): failures for one account, or one address, since a cut-off.
            models.Index(fields=["username", "created_at"], name="loginfailure_user_time"),
            models.Index(fields=["ip_address", "created_at"], name="loginfailure_ip_time"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.created_at:%Y-%m-%d %H:%M:%S}"
