import factory
from django.contrib.auth.models import User
from django.utils import timezone

from casebank.models import Case, CaseItem, CaseStatus, ClarificationFact, StepProbe, Tag
from interviews.models import Session, SessionState
from rubrics.models import Category, Item, Rubric, RubricVersion, Step, VersionStatus

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").capitalize())
    position = factory.Sequence(lambda n: n)


class RubricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rubric

    slug = factory.Sequence(lambda n: f"rubric-{n}")
    name = factory.Sequence(lambda n: f"Rubric {n}")


class RubricVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RubricVersion

    rubric = factory.SubFactory(RubricFactory)
    number = 1
    status = VersionStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    version = factory.SubFactory(RubricVersionFactory)
    number = factory.Sequence(lambda n: n % 7 + 1)
    name = factory.LazyAttribute(lambda s: f"Step {s.number}")
    budget_45 = 6
    budget_60 = 8


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        skip_postgeneration_save = True

    step = factory.SubFactory(StepFactory)
    key = factory.Sequence(lambda n: f"item-{n}")
    title = factory.Sequence(lambda n: f"Covers point {n}")
    candidate_text = "The candidate was expected to cover this point."
    probe = "INTERVIEWER-ONLY probe: ask about this point."
    points = 1
    position = factory.Sequence(lambda n: n)

    @factory.post_generation
    def categories(self, create: bool, extracted: list[Category] | None, **kwargs: object) -> None:
        if create and extracted:
            self.categories.set(extracted)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tag-{n}")


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"case-{n}")
    title = factory.Sequence(lambda n: f"Design system number {n}")
    summary = "Predict something useful for many users."
    domain = "ads"
    difficulty = "senior"
    status = CaseStatus.PUBLISHED
    candidate_prompt = "CANDIDATE-PROMPT: design the system."
    interviewer_brief = "INTERVIEWER-BRIEF-SECRET: the twist is calibration."
    model_answer = "MODEL-ANSWER-SECRET: a strong answer covers everything."

    @factory.post_generation
    def tags(self, create: bool, extracted: list[Tag] | None, **kwargs: object) -> None:
        if create and extracted:
            self.tags.set(extracted)


class ClarificationFactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClarificationFact

    case = factory.SubFactory(CaseFactory)
    position = factory.Sequence(lambda n: n)
    question = factory.Sequence(lambda n: f"How many users, question {n}?")
    answer = "About 100 million daily active users."


class StepProbeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StepProbe

    case = factory.SubFactory(CaseFactory)
    step = 1
    text = "PROBE-SECRET: ask about scale."


class CaseItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseItem
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    step = 5
    key = factory.Sequence(lambda n: f"case-item-{n}")
    title = "Handles the case's twist"
    candidate_text = "The candidate was expected to handle the twist."
    probe = "CASE-ITEM-PROBE-SECRET"

    @factory.post_generation
    def categories(self, create: bool, extracted: list[Category] | None, **kwargs: object) -> None:
        if create and extracted:
            self.categories.set(extracted)


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    case = factory.SubFactory(CaseFactory)
    rubric_version = factory.SubFactory(RubricVersionFactory)
    interviewer = factory.SubFactory(UserFactory)
    candidate = factory.SubFactory(UserFactory)
    state = SessionState.READY
