"""Study groups: members who practise together, and the open slots they offer each other.

Top of the app stack: groups reads sessions, cases and progress, and nothing below imports it.
All writes go through groups/services.py.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from casebank.models import Difficulty, Domain
from interviews.models import CALL_URL_LIMIT, Session, validate_call_url

NAME_LIMIT = 80
DESCRIPTION_LIMIT = 1_000


class StudyGroup(models.Model):
    name = models.CharField(max_length=NAME_LIMIT)
    description = models.TextField(max_length=DESCRIPTION_LIMIT, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_groups"
    )
    # A reusable link: anyone signed in who has it may join, until the owner revokes it or
    # makes a new one. 32 random bytes, URL-safe; None while revoked.
    invite_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("groups:detail", args=[self.pk])


class Membership(models.Model):
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    joined_at = models.DateTimeField()
    # Opt-in: the group's progress page shows nothing about a member until this is on.
    shares_progress = models.BooleanField(default=False)

    class Meta:
        ordering = ["group", "joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="membership_unique"),
        ]
        indexes = [
            # "My groups", and every permission check: a user's memberships.
            models.Index(fields=["user", "group"], name="membership_user_group"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class SlotRole(models.TextChoices):
    """The role the member offering the slot wants to play."""

    INTERVIEWER = "interviewer", "I’ll interview"
    CANDIDATE = "candidate", "I want to be interviewed"
    EITHER = "either", "Either role"


class Slot(models.Model):
    """A time a member offers to the group; the first member to claim it gets a session."""

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="slots")
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offered_slots"
    )
    starts_at = models.DateTimeField()
    length_minutes = models.PositiveSmallIntegerField(default=45)
    role = models.CharField(max_length=12, choices=SlotRole.choices, default=SlotRole.EITHER)
    level = models.CharField(
        max_length=10, choices=Difficulty.choices, blank=True, help_text="Empty: any level."
    )
    domain = models.CharField(
        max_length=20, choices=Domain.choices, blank=True, help_text="Empty: any domain."
    )
    call_url = models.URLField(
        "call link", max_length=CALL_URL_LIMIT, blank=True, validators=[validate_call_url]
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claimed_slots",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The session the claim created; kept in sync by groups.services.claim_slot.
    session = models.OneToOneField(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="slot"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            # The board: a group's unclaimed slots from now on, by time.
            models.Index(fields=["group", "claimed_by", "starts_at"], name="slot_board"),
        ]

    def __str__(self) -> str:
        return f"Slot at {self.starts_at:%Y-%m-%d %H:%M} in {self.group}"

    @property
    def is_claimed(self) -> bool:
        return self.claimed_by_id is not None
