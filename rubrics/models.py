"""Rubrics: versioned 7-step checklists. A published version never changes (see services)."""

from decimal import Decimal
from fractions import Fraction

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from rubrics import scoring


class ItemKind(models.TextChoices):
    EXPECTED = scoring.Kind.EXPECTED.value, "Expected (earns points)"
    RED_FLAG = scoring.Kind.RED_FLAG.value, "Red flag (subtracts points when observed)"


class ItemLevel(models.TextChoices):
    CORE = scoring.Level.CORE.value, "Core (expected of everyone)"
    SENIOR = scoring.Level.SENIOR.value, "Senior (expected from senior up)"
    STAFF = scoring.Level.STAFF.value, "Staff (expected of staff only)"


class Category(models.Model):
    """A cross-cutting concept (metrics, data leakage, …) tracked across steps and sessions."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Rubric(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


_percent = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class RubricVersionQuerySet(models.QuerySet["RubricVersion"]):
    def published(self) -> "RubricVersionQuerySet":
        return self.filter(status=VersionStatus.PUBLISHED)


class RubricVersion(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    notes = models.TextField(blank=True, help_text="What changed in this version.")
    strong_hire_threshold = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(80), validators=_percent
    )
    hire_threshold = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(65), validators=_percent
    )
    lean_no_hire_threshold = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(50), validators=_percent
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = RubricVersionQuerySet.as_manager()

    class Meta:
        ordering = ["rubric__name", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["rubric", "number"], name="rubricversion_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rubric.name} v{self.number} ({self.get_status_display().lower()})"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    @property
    def thresholds(self) -> scoring.Thresholds:
        return scoring.Thresholds(
            strong_hire=Fraction(self.strong_hire_threshold),
            hire=Fraction(self.hire_threshold),
            lean_no_hire=Fraction(self.lean_no_hire_threshold),
        )


class Step(models.Model):
    version = models.ForeignKey(RubricVersion, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    budget_45 = models.PositiveSmallIntegerField("minutes in 45", default=5)
    budget_60 = models.PositiveSmallIntegerField("minutes in 60", default=7)

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="step_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"

    def budget_minutes(self, length: int) -> int:
        return self.budget_60 if length >= 60 else self.budget_45


class ItemFields(models.Model):
    """The fields a checklist item has, whether the rubric or a case defines it."""

    key = models.SlugField(
        max_length=80,
        help_text="Stable identity of the item across versions; re-scoring maps marks by it.",
    )
    title = models.CharField(max_length=120)
    candidate_text = models.TextField(
        "expected (candidate-facing)",
        max_length=2000,
        help_text="What was expected; the candidate sees it on the scorecard afterwards.",
    )
    probe = models.TextField(
        "how to tell (interviewer-facing)",
        max_length=2000,
        blank=True,
        help_text="How the interviewer can tell it was covered, and what to ask.",
    )
    points = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    kind = models.CharField(max_length=10, choices=ItemKind.choices, default=ItemKind.EXPECTED)
    required = models.BooleanField(
        default=False,
        help_text="A gate: if this expected item is missed, the band is capped at Lean no hire.",
    )
    keywords = models.TextField(
        blank=True,
        max_length=2000,
        help_text="One phrase per line. Found in the candidate's notes, they suggest coverage.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]


class Item(ItemFields):
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="items")
    categories = models.ManyToManyField(Category, related_name="items")
    level = models.CharField(
        max_length=10,
        choices=ItemLevel.choices,
        default=ItemLevel.CORE,
        help_text=(
            "The lowest level expected to cover it. In a session aimed lower, an expected item is "
            "a stretch item: it counts only when covered and is never a loss."
        ),
    )

    class Meta:
        ordering = ["step__number", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "key"], name="item_unique_key_per_step"),
        ]
