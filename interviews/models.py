"""Interview sessions: one case, one rubric version, an interviewer and a candidate.

All writes go through interviews/services.py, which bumps `Session.version` in the same
transaction as every change, so a poll can tell in one indexed read whether anything changed.
"""

import secrets
from datetime import datetime, timedelta
from fractions import Fraction
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.urls import reverse
from django.utils.safestring import SafeString

from casebank.models import LONG_TEXT_LIMIT, Case, ClarificationFact
from core.markdown import render_markdown
from interviews import board
from interviews.digest import read_digest
from rubrics import scoring
from rubrics.models import RubricVersion
from rubrics.models import Step as RubricStep

NOTE_LIMIT = LONG_TEXT_LIMIT
NOTES_HTML_SECONDS = 6 * 3600  # an interview's length, with room: a version never changes
COMMENT_LIMIT = 5_000
HINT_LIMIT = 500
CALL_URL_LIMIT = 500
CALL_ROOM_BYTES = 16  # 128 bits: a room name nobody can guess on a shared call server
# After the scheduled start plus this, a participant still waiting may mark the other absent.
NO_SHOW_GRACE = timedelta(minutes=15)


def default_call_link() -> str:
    """A fresh room on the instance's call server (CALL_LINK_BASE_URL), or "" without one."""
    base = settings.CALL_LINK_BASE_URL
    return f"{base}/spar-{secrets.token_hex(CALL_ROOM_BYTES)}" if base else ""


def validate_call_url(value: str) -> None:
    """A call link is an https address without credentials: it is shown to both people as a
    link to follow, so a javascript: or http: address, or one carrying a password, is refused."""
    # Codes of their own: a form field's "invalid" message would replace these messages.
    URLValidator(
        schemes=["https"], message="Enter a call link starting with https://.", code="call_link"
    )(value)
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValidationError(
            "Leave the user name and password out of the call link: everyone who sees the "
            "session would see them. Most call services put the meeting's passcode in the link "
            "itself (…?pwd=…), which is fine.",
            code="call_link_credentials",
        )


class ScheduleStatus(models.TextChoices):
    NONE = "", "Not scheduled"
    PROPOSED = "proposed", "Proposed, waiting for the other person"
    AGREED = "agreed", "Agreed"


class SessionState(models.TextChoices):
    WAITING = "waiting", "Waiting for candidate"
    READY = "ready", "Ready"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    FINISHED = "finished", "Finished"


class SessionMode(models.TextChoices):
    PEER = "peer", "With an interviewer"
    SOLO = "solo", "Solo practice"


class SelfAssessment(models.TextChoices):
    """Whether the candidate has marked themselves; the interviewer's marks stay hidden from
    the candidate until this is no longer pending."""

    PENDING = "pending", "Not yet"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"


class TargetLevel(models.TextChoices):
    """The level a session is judged at; items of a higher level are stretch (rubrics.scoring)."""

    CORE = scoring.Level.CORE.value, "Core (junior)"
    SENIOR = scoring.Level.SENIOR.value, "Senior"
    STAFF = scoring.Level.STAFF.value, "Staff"

    @classmethod
    def for_difficulty(cls, difficulty: str) -> "TargetLevel":
        return {"junior": cls.CORE, "senior": cls.SENIOR}.get(difficulty, cls.STAFF)


class SessionQuerySet(models.QuerySet["Session"]):
    def for_user_list(self) -> "SessionQuerySet":
        return self.select_related("case", "interviewer", "candidate").order_by("-created_at")

    def of_user(self, user: User) -> "SessionQuerySet":
        """The sessions the user takes part in, in either role."""
        return self.filter(models.Q(interviewer=user) | models.Q(candidate=user))


class Session(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="sessions")
    # Sessions stay on the version they started with, so past scores stay explainable.
    rubric_version = models.ForeignKey(
        RubricVersion, on_delete=models.PROTECT, related_name="sessions"
    )
    mode = models.CharField(max_length=10, choices=SessionMode.choices, default=SessionMode.PEER)
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sessions_as_interviewer",
        help_text="Empty for solo practice.",
    )
    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sessions_as_candidate",
    )
    length_minutes = models.PositiveSmallIntegerField(default=45)
    # Sessions made before levels existed are judged at staff level: nothing is stretch, so
    # their scores stay what they were.
    target_level = models.CharField(
        max_length=10, choices=TargetLevel.choices, default=TargetLevel.STAFF
    )
    state = models.CharField(
        max_length=10, choices=SessionState.choices, default=SessionState.WAITING
    )
    # 32 random bytes, URL-safe; None once revoked or finished. Kept once spent (a candidate
    # joined) so the link can say the session is taken; it then lets nobody else in.
    invite_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    current_step = models.PositiveSmallIntegerField(default=1)
    # When the current step's clock last started; None while not running.
    running_since = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Change stamps, all kept in sync by interviews.services: `version` grows with every write;
    # each *_stamp holds the version of the last change to one part of the room, so a poll
    # re-renders only the parts that changed since the client's version.
    version = models.PositiveBigIntegerField(default=1)
    flow_stamp = models.PositiveBigIntegerField(default=1)
    notes_stamp = models.PositiveBigIntegerField(default=1)
    facts_stamp = models.PositiveBigIntegerField(default=1)
    marks_stamp = models.PositiveBigIntegerField(default=1)
    presence_stamp = models.PositiveBigIntegerField(default=1)
    swap_stamp = models.PositiveBigIntegerField(default=1)
    # The page (interviews.live.PAGE_HEADER) whose own write made `version`, when the answer to
    # that write brought the page up to it: that page's stream need not be sent this version.
    # Every other write clears it.
    echo_page = models.CharField(max_length=32, blank=True, default="", editable=False)

    # When each participant's page last reached the server; written by
    # interviews.services.record_presence at most every few seconds, never once per request.
    interviewer_seen_at = models.DateTimeField(null=True, blank=True)
    candidate_seen_at = models.DateTimeField(null=True, blank=True)
    # The session "Swap roles" opened after this one, set by scorecards.services.swap_roles, so
    # the partner's scorecard can offer the way there.
    next_session = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The shared whiteboard: tells the other screen to fetch board.json (save_board bumps it).
    board_stamp = models.PositiveBigIntegerField(default=1)

    # The result when finished, kept in sync by interviews.services.finish_session.
    total_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    band = models.CharField(max_length=20, blank=True)
    # A digest of the result (per-step and per-category percentages, missed items, red flags,
    # overruns) kept in sync by interviews.services._store_result, so that the progress page
    # reads one row per session instead of re-scoring every session on every view.
    result = models.JSONField(null=True, blank=True)
    self_assessment = models.CharField(
        max_length=10, choices=SelfAssessment.choices, default=SelfAssessment.PENDING
    )

    # Hosting: where the two meet and when, all written by interviews.services (set_call_link,
    # propose_time, accept_time, agree_time, mark_no_show, claim_reminder).
    call_url = models.URLField(
        "call link",
        max_length=CALL_URL_LIMIT,
        blank=True,
        default=default_call_link,
        validators=[validate_call_url],
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    schedule_status = models.CharField(
        max_length=10, choices=ScheduleStatus.choices, blank=True, default=ScheduleStatus.NONE
    )
    # Who proposed the current time; the other participant accepts it.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The scheduled_at whose reminder went out: a new time gets a new reminder, the same never
    # a second one (see claim_reminder).
    reminded_for = models.DateTimeField(null=True, blank=True)
    no_show = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The participant who did not come to the scheduled start.",
    )
    no_show_marked_at = models.DateTimeField(null=True, blank=True)

    objects = SessionQuerySet.as_manager()
    # Not a column: permissions.locked_session sets it on the instance it read under the row lock,
    # so services.lock knows not to read it again.
    locked_for_write: bool

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # "Not yet practised by me" and interviewer-material checks: a user's cases.
            models.Index(fields=["candidate", "state", "case"], name="session_candidate_cases"),
            models.Index(fields=["interviewer", "case"], name="session_interviewer_cases"),
            # send_reminders: agreed sessions starting within the reminder window.
            models.Index(fields=["schedule_status", "scheduled_at"], name="session_schedule"),
        ]

    def __str__(self) -> str:
        return f"{self.case} ({self.get_state_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("interviews:room", args=[self.pk])

    @property
    def is_solo(self) -> bool:
        return self.mode == SessionMode.SOLO

    @property
    def is_finished(self) -> bool:
        return self.state == SessionState.FINISHED

    @property
    def is_live(self) -> bool:
        return self.state in {SessionState.RUNNING, SessionState.PAUSED}

    @property
    def is_before_start(self) -> bool:
        return self.state in {SessionState.WAITING, SessionState.READY}

    @property
    def exact_total(self) -> Fraction | None:
        """The total percentage exactly, from the stored digest; `total_percent` is rounded to
        three places for sorting and filtering, and must not be rounded again for display."""
        total = read_digest(self.result).total
        if total is None and self.total_percent is not None:
            return Fraction(self.total_percent)
        return total

    @property
    def has_started(self) -> bool:
        return self.state not in {SessionState.WAITING, SessionState.READY}

    def participant_ids(self) -> set[int]:
        return {pk for pk in (self.interviewer_id, self.candidate_id) if pk is not None}

    def step_elapsed(self, step: "SessionStep", now: datetime) -> float:
        """Seconds spent on a step, including the stretch running right now."""
        seconds = step.elapsed_seconds
        if self.running_since is not None and step.number == self.current_step:
            seconds += max(0.0, (now - self.running_since).total_seconds())
        return seconds


class SessionStep(models.Model):
    """One of the interview's steps in one session: its budget, clock, notes and comment."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField()
    rubric_step = models.ForeignKey(RubricStep, on_delete=models.PROTECT, related_name="+")
    budget_minutes = models.PositiveSmallIntegerField()
    # Seconds spent while this step was current and running, not counting the open stretch
    # that began at Session.running_since.
    elapsed_seconds = models.FloatField(default=0)
    notes = models.TextField(blank=True, max_length=NOTE_LIMIT)
    # Saves carry the notes_version they were based on; a stale one is a conflict (two tabs).
    notes_version = models.PositiveIntegerField(default=0)
    notes_updated_at = models.DateTimeField(null=True, blank=True)
    # The session version of the last notes save (interviews.services.save_notes), so a poll
    # sends the notes of the steps that changed since the page's version, not all of them.
    notes_stamp = models.PositiveBigIntegerField(default=0)
    # The notes as core.markdown.render_markdown made them, stored by the save that stored the
    # notes (interviews.services.save_notes): rendered once per save, not once in every app
    # process that shows them. Empty for notes saved before it was kept (see notes_html). If
    # render_markdown ever allows less, blank this column in the same change.
    notes_rendered = models.TextField(blank=True, editable=False)
    comment = models.TextField(blank=True, max_length=COMMENT_LIMIT)

    class Meta:
        # By the session's id, newest first like the sessions themselves. Ordering by "session"
        # would follow Session's own ordering: every read of one session's steps (and marks,
        # reveals, hints, snapshots below) then joined the sessions table only to sort.
        ordering = ["-session_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="sessionstep_unique"),
        ]

    def __str__(self) -> str:
        return f"Step {self.number} of {self.session_id}"

    @property
    def notes_cache_key(self) -> str:
        return f"spar:notes-html:{self.pk}:{self.notes_version}"

    @property
    def notes_html(self) -> SafeString:
        """The notes through the one Markdown renderer, as their save stored them. Notes saved
        before that are rendered once per version and process: up to 20,000 characters of
        Markdown take a noticeable time to render, and every update after a change would
        otherwise render them again for every viewer."""
        if self.notes_rendered or not self.notes:
            return SafeString(self.notes_rendered)
        html = cache.get(self.notes_cache_key)
        if html is None:
            html = render_markdown(self.notes)
            cache.set(self.notes_cache_key, str(html), NOTES_HTML_SECONDS)
        return SafeString(html)


class MarkSource(models.TextChoices):
    INTERVIEWER = "interviewer", "Interviewer"
    SELF = "self", "Self-assessment"


class MarkValue(models.TextChoices):
    COVERED = "covered", "Covered"
    PARTIAL = "partial", "Partial"
    MISSED = "missed", "Missed"
    OBSERVED = "observed", "Observed (red flag)"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


REASON_LIMIT = 200


class Mark(models.Model):
    """A checklist mark. `item_key` is the scoring key: the rubric item's key or case:<key>."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="marks")
    source = models.CharField(
        max_length=12, choices=MarkSource.choices, default=MarkSource.INTERVIEWER
    )
    item_key = models.CharField(max_length=100)
    step_number = models.PositiveSmallIntegerField()
    mark = models.CharField(max_length=20, choices=MarkValue.choices, blank=True)
    after_hint = models.BooleanField(default=False)
    # Why the interviewer judged the item not applicable; empty for every other mark.
    reason = models.CharField(max_length=REASON_LIMIT, blank=True)
    marked_at = models.DateTimeField()
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-session_id", "step_number", "marked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "source", "item_key"], name="mark_unique_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_key}: {self.mark or 'unmarked'}"


class FactReveal(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reveals")
    fact = models.ForeignKey(ClarificationFact, on_delete=models.CASCADE, related_name="+")
    revealed_at = models.DateTimeField()

    class Meta:
        ordering = ["-session_id", "revealed_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "fact"], name="factreveal_unique"),
        ]

    def __str__(self) -> str:
        return f"fact {self.fact_id} revealed"


class Hint(models.Model):
    """An entry in the hint log: a hint the interviewer gave during a step."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="hints")
    step_number = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=HINT_LIMIT)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-session_id", "created_at", "id"]

    def __str__(self) -> str:
        return self.text


class SessionBoard(models.Model):
    """The session's shared whiteboard (interviews/board.py has its rules), written only by
    interviews.services.save_board. `labels` and `snapshot_version` are derived values kept in
    sync there: the board's readable text, for the evidence matcher without loading the scene,
    and the board version the latest BoardSnapshot holds, so a step change that finds the board
    unchanged takes no snapshot and reads no scene."""

    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, primary_key=True, related_name="board"
    )
    version = models.PositiveIntegerField(default=0)
    # Element id → Excalidraw element, deleted ones kept as tombstones (board.Board.elements).
    elements = models.JSONField(default=dict)
    # Element id → the board version that last changed it (board.Board.changed_at).
    changed_at = models.JSONField(default=dict)
    labels = models.JSONField(default=list)
    snapshot_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Board of session {self.session_id} (version {self.version})"

    def as_board(self) -> board.Board:
        return board.Board(version=self.version, elements=self.elements, changed_at=self.changed_at)


class BoardSnapshot(models.Model):
    """The board as it stood when a step ended (`step_number` is the step left) or at the
    finish; taken by interviews.services only when the board changed since the last one. Never
    changed afterwards: the scorecard shows them in order."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="board_snapshots")
    step_number = models.PositiveSmallIntegerField()
    at_finish = models.BooleanField(default=False)
    board_version = models.PositiveIntegerField()
    # The visible elements in drawing order (deleted ones left out), as board.board_payload orders
    # them; `element_count` and `labels` are read from them when the snapshot is taken.
    elements = models.JSONField(default=list)
    element_count = models.PositiveIntegerField(default=0)
    labels = models.JSONField(default=list)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["-session_id", "taken_at", "id"]

    def __str__(self) -> str:
        when = "at the finish" if self.at_finish else f"after step {self.step_number}"
        return f"Board of session {self.session_id} {when}"
