"""Re-scores: a finished session's marks scored again under another version of its rubric.

The scorecard itself is not stored: it is computed from the session's marks (see report.py), so it
always equals what rubrics.scoring gives for them.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from interviews.models import Session
from rubrics.models import RubricVersion


class Rescore(models.Model):
    """One re-score, written only by scorecards.services.rescore_session; never changed after.

    `result` has the shape of the "scores" part of the JSON export (exports.scores_data).
    `unmapped_keys` lists what did not carry over: {"unmapped": [{key, title, step, reason}],
    "new": [{key, title, step, kind}]}: the session's items with no counterpart in the version
    (or whose mark does not fit it), and the version's items the session has no mark for.
    Titles are stored with the keys so the scorecard shows them without reading either version.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="rescores")
    rubric_version = models.ForeignKey(
        RubricVersion, on_delete=models.PROTECT, related_name="rescores"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    result = models.JSONField()
    unmapped_keys = models.JSONField(default=dict)

    class Meta:
        # Not "session": that would join the sessions table to sort (see SessionStep).
        ordering = ["-session_id", "created_at", "id"]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("scorecards:scorecard", args=[self.session_id]) + f"#rescore-{self.pk}"

    @property
    def label(self) -> str:
        """ "Re-scored under ML system design v2 by ines on 2025-03-01 12:00 UTC"; the view selects
        the version's rubric and the author, so this reads no more rows."""
        version = self.rubric_version
        by = self.created_by.get_username() if self.created_by else "a deleted account"
        when = timezone.localtime(self.created_at).strftime("%Y-%m-%d %H:%M %Z")
        return f"Re-scored under {version.rubric.name} v{version.number} by {by} on {when}"
