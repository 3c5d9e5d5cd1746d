"""Case studies: what the candidate is asked, and what the interviewer needs to run the case."""

from django.conf import settings
from django.contrib.auth.models import User
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from casebank.rules import (
    ANSWER_LIMIT,
    KEY_LIMIT,
    LONG_TEXT_LIMIT,
    QUESTION_LIMIT,
    REASON_LIMIT,
    SLUG_LIMIT,
    STEP_COUNT,
    SUMMARY_LIMIT,
    TAG_LIMIT,
    TITLE_LIMIT,
    validate_one_line,
    validate_section_text,
    validate_slug,
)
from rubrics.models import Category, ItemFields


class Domain(models.TextChoices):
    ADS = "ads", "Ads"
    RECOMMENDATIONS = "recommendations", "Recommendations"
    SEARCH = "search", "Search"
    FRAUD_RISK = "fraud-risk", "Fraud and risk"
    VISION = "vision", "Vision"
    NLP = "nlp", "Language (NLP)"
    FORECASTING_ETA = "forecasting-eta", "Forecasting and ETA"
    INTEGRITY = "integrity", "Integrity and safety"
    SOCIAL_GRAPH = "social-graph", "Social graph"


class Difficulty(models.TextChoices):
    JUNIOR = "junior", "Junior"
    SENIOR = "senior", "Senior"
    STAFF = "staff", "Staff"


class CaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Tag(models.Model):
    slug = models.CharField(
        max_length=TAG_LIMIT,
        unique=True,
        validators=[validate_slug],
        help_text="A lowercase word or hyphenated phrase, like “cold-start”.",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class CaseQuerySet(models.QuerySet["Case"]):
    def published(self) -> "CaseQuerySet":
        return self.filter(status=CaseStatus.PUBLISHED)

    def for_library(self) -> "CaseQuerySet":
        return self.published().prefetch_related("tags").order_by("title")

    def not_done_by(self, user: User, *, nor_interviewed: bool = False) -> "CaseQuerySet":
        """Cases the user has not had as candidate, in any state (a session that never finished
        still showed them the prompt); with nor_interviewed, nor interviewed on (they have read
        its model answer). Excluding across the reverse relation is one NOT EXISTS subquery."""
        cases = self.exclude(sessions__candidate=user)
        if nor_interviewed:
            cases = cases.exclude(sessions__interviewer=user)
        return cases

    def pick_random(self) -> "Case | None":
        """One of these cases at random ("Surprise me"): variety, not security."""
        return self.order_by("?").first()


class Case(models.Model):
    slug = models.CharField(
        max_length=SLUG_LIMIT,
        unique=True,
        validators=[validate_slug],
        help_text="The case's address and file name: lowercase letters, digits and hyphens. "
        "Filled in from the title.",
    )
    title = models.CharField(max_length=TITLE_LIMIT, validators=[validate_one_line])
    summary = models.CharField(
        max_length=SUMMARY_LIMIT,
        validators=[validate_one_line],
        help_text="One sentence for the library's list.",
    )
    domain = models.CharField(max_length=20, choices=Domain.choices)
    difficulty = models.CharField(max_length=10, choices=Difficulty.choices)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.DRAFT)
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="authored_cases",
    )
    # The long texts may be empty in a draft; publishing checks them (casebank.rules).
    candidate_prompt = models.TextField(
        max_length=LONG_TEXT_LIMIT,
        blank=True,
        validators=[validate_section_text],
        help_text="Markdown. What the candidate reads at the start. For headings use ## or more.",
    )
    interviewer_brief = models.TextField(
        max_length=LONG_TEXT_LIMIT,
        blank=True,
        validators=[validate_section_text],
        help_text="Markdown, interviewer only: what the case tests, its twist, common traps.",
    )
    model_answer = models.TextField(
        "model answer outline",
        max_length=LONG_TEXT_LIMIT,
        blank=True,
        validators=[validate_section_text],
        help_text="Markdown, interviewer only: what a strong answer covers, step by step.",
    )
    step_budgets = models.JSONField(
        default=dict,
        blank=True,
        help_text="Minutes per step for this case, by interview length: "
        '{"45": [7 numbers], "60": [7 numbers]}; a missing length uses the rubric\'s budgets.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [
            # The library lists published cases filtered by domain and difficulty.
            models.Index(fields=["status", "domain", "difficulty"], name="case_library_filters"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("casebank:detail", args=[self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == CaseStatus.PUBLISHED

    def budget_minutes(self, step_number: int, length: int) -> int | None:
        """This case's minutes for a step, or None to use the rubric's budget.

        Lengths pick their budgets as the rubric's steps do: 60 minutes or more use the 60 list.
        """
        minutes: list[int] | None = self.step_budgets.get("60" if length >= 60 else "45")
        if not minutes or not 1 <= step_number <= len(minutes):
            return None
        return minutes[step_number - 1]


class ClarificationFact(models.Model):
    """A question the candidate may ask and the answer the interviewer reveals."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="facts")
    position = models.PositiveSmallIntegerField(default=0)
    question = models.CharField(max_length=QUESTION_LIMIT, validators=[validate_one_line])
    answer = models.TextField(max_length=ANSWER_LIMIT)

    class Meta:
        # By the case's id: ordering by "case" follows Case's ordering (its title), which joined
        # the cases table into every read of one case's facts (and probes, items, exclusions).
        ordering = ["case_id", "position", "id"]

    def __str__(self) -> str:
        return self.question


class StepProbe(models.Model):
    """Interviewer-only follow-up questions and hints for one step of one case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="probes")
    step = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(STEP_COUNT)]
    )
    text = models.TextField(
        max_length=LONG_TEXT_LIMIT, validators=[validate_section_text], help_text="Markdown."
    )

    class Meta:
        ordering = ["case_id", "step"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step"], name="stepprobe_unique_step"),
        ]

    def __str__(self) -> str:
        return f"Step {self.step} probes"


class CaseItem(ItemFields):
    """A checklist item a case adds to one step, on top of the rubric's own items."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extra_items")
    key = models.CharField(
        max_length=KEY_LIMIT,
        validators=[validate_slug],
        help_text="Lowercase letters, digits and hyphens, unique within this case; filled in "
        "from the item title. Marks are stored under it, so keep it once the case is in use.",
    )
    step = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(STEP_COUNT)]
    )
    # Blank in a draft; publishing needs at least one (casebank.rules).
    categories = models.ManyToManyField(Category, related_name="case_items", blank=True)

    class Meta:
        ordering = ["case_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "key"], name="caseitem_unique_key"),
        ]


class CaseExclusion(models.Model):
    """A rubric item that does not apply to this case (a batch system has no live A/B test)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="exclusions")
    item_key = models.CharField(
        "rubric item",
        max_length=KEY_LIMIT,
        validators=[validate_slug],
        help_text="The key of the rubric item that does not apply.",
    )
    reason = models.CharField(
        max_length=REASON_LIMIT,
        validators=[validate_one_line],
        help_text="One line: why the item does not apply to this case.",
    )

    class Meta:
        ordering = ["case_id", "item_key"]
        constraints = [
            models.UniqueConstraint(fields=["case", "item_key"], name="caseexclusion_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.item_key} (not applicable)"
