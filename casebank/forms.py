from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.forms.models import BaseInlineFormSet

from casebank import rules
from casebank.authoring import RubricContext
from casebank.models import (
    Case,
    CaseExclusion,
    CaseItem,
    CaseQuerySet,
    CaseStatus,
    ClarificationFact,
    Difficulty,
    Domain,
    Tag,
)
from casebank.overlap import ItemText, Overlap, find_overlaps

SEARCH_MAX_LENGTH = 100


class LibraryFilterForm(forms.Form):
    """The library's filters, read from the query string; every field is optional."""

    q = forms.CharField(
        label="Search",
        max_length=SEARCH_MAX_LENGTH,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": "fraud, ranking, cold start…"}),
        help_text="Words in the title, summary or tags.",
    )
    domain = forms.ChoiceField(
        choices=[("", "Any domain"), *Domain.choices],
        required=False,
        error_messages={"invalid_choice": "There is no domain “%(value)s”."},
    )
    difficulty = forms.ChoiceField(
        choices=[("", "Any level"), *Difficulty.choices],
        required=False,
        error_messages={"invalid_choice": "There is no difficulty “%(value)s”."},
    )
    tag = forms.ModelChoiceField(
        # Only tags of published cases: a tag used only by drafts would name an unlisted case.
        queryset=Tag.objects.filter(cases__status=CaseStatus.PUBLISHED).distinct(),
        to_field_name="slug",
        required=False,
        empty_label="Any tag",
        error_messages={"invalid_choice": "No published case has the tag “%(value)s”."},
    )
    unpractised = forms.BooleanField(label="Not yet practised by me", required=False)

    def clean_q(self) -> list[str]:
        # Each word must match somewhere, so "fraud card" finds "Card fraud detection".
        query: str = self.cleaned_data["q"]
        return query.split()

    def filter_cases(self, cases: CaseQuerySet, *, user: User) -> CaseQuerySet:
        """The cases that match the filters; all of them when the form is invalid."""
        if not self.is_valid():
            return cases
        data = self.cleaned_data
        for word in data["q"]:
            # EXISTS rather than a join on tags: a join would repeat a case once per matching tag.
            tagged = Tag.objects.filter(cases=OuterRef("pk"), slug__icontains=word)
            cases = cases.filter(
                Q(title__icontains=word) | Q(summary__icontains=word) | Q(Exists(tagged))
            )
        if data["domain"]:
            cases = cases.filter(domain=data["domain"])
        if data["difficulty"]:
            cases = cases.filter(difficulty=data["difficulty"])
        if data["tag"] is not None:
            cases = cases.filter(tags=data["tag"])
        if data["unpractised"]:
            cases = cases.not_done_by(user)
        return cases


# --- the case admin ---------------------------------------------------------------------------
# Every rule here is a casebank.rules function, the same the case files are checked with.


class NormalisedTextField(forms.CharField):
    """A text field whose line breaks are stored as LF, whatever the browser sends (CRLF)."""

    def to_python(self, value: Any) -> str:
        # Empty input gives the field's empty_value, "": never None, which it is not set to.
        return rules.normalise_text(cast(str, super().to_python(value)))


def _probe_field(step: int) -> str:
    return f"probe_{step}"


def _probe() -> NormalisedTextField:
    # The label names the step; it is set per request from the rubric (CaseAdminForm.__init__).
    return NormalisedTextField(
        required=False,
        max_length=rules.LONG_TEXT_LIMIT,
        validators=[rules.validate_section_text],
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        help_text="Markdown, interviewer only: follow-up questions and hints for the step.",
    )


def _budgets(length: int) -> forms.CharField:
    return forms.CharField(
        label=f"Minutes per step, {length}-minute interview", required=False, max_length=100
    )


PROBE_FIELDS = [_probe_field(n) for n in range(1, rules.STEP_COUNT + 1)]
BUDGET_FIELDS = {length: f"budgets_{length}" for length in rules.LENGTHS}


class CaseAdminForm(forms.ModelForm):
    """The case itself, its tags, its probes per step and its step budgets on one form.

    Tags are typed, not picked, so a new tag costs no extra window; probes are one box per
    step, titled with the step's name, so there is no step number to choose or get wrong.
    """

    rubric: RubricContext  # set by CaseAdmin.get_form for the request

    tags_text = forms.CharField(
        label="Tags",
        required=False,
        max_length=500,
        help_text="Lowercase words or hyphenated phrases, separated by commas, like "
        "“ranking, cold-start”. New tags are created.",
    )
    probe_1 = _probe()
    probe_2 = _probe()
    probe_3 = _probe()
    probe_4 = _probe()
    probe_5 = _probe()
    probe_6 = _probe()
    probe_7 = _probe()
    budgets_45 = _budgets(45)
    budgets_60 = _budgets(60)

    class Meta:
        model = Case
        fields = [
            "title",
            "slug",
            "summary",
            "status",
            "author",
            "domain",
            "difficulty",
            "candidate_prompt",
            "interviewer_brief",
            "model_answer",
        ]
        field_classes = {
            "candidate_prompt": NormalisedTextField,
            "interviewer_brief": NormalisedTextField,
            "model_answer": NormalisedTextField,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case = self.instance
        saved = case.pk is not None
        if "author" in self.fields:
            cast(forms.ModelChoiceField, self.fields["author"]).queryset = User.objects.filter(
                is_staff=True
            ).order_by("username")
        self.fields["status"].help_text = (
            "A draft may be incomplete. Publishing needs a prompt, a brief, at least "
            f"{rules.MIN_FACTS_TO_PUBLISH} facts, probes for every step, a model answer and a "
            "category for every case item."
        )
        probes = {probe.step: probe.text for probe in case.probes.all()} if saved else {}
        for step in self.rubric.steps:
            name = _probe_field(step.number)
            if name in self.fields:
                self.fields[name].label = f"{step.label} — probes"
                self.initial.setdefault(name, probes.get(step.number, ""))
        for length, name in BUDGET_FIELDS.items():
            defaults = [
                getattr(step, f"budget_{length}")
                for step in self.rubric.steps
                if getattr(step, f"budget_{length}") is not None
            ]
            if name not in self.fields:
                continue
            example = ", ".join(map(str, defaults)) if defaults else "5, 8, 8, 8, 6, 5, 5"
            self.fields[name].help_text = (
                f"Seven whole numbers, step 1 first, adding up to at most {length}, like "
                f"“{example}”. Empty: the rubric's budgets."
            )
            current = case.step_budgets.get(str(length)) if saved else None
            self.initial.setdefault(name, ", ".join(map(str, current)) if current else "")
        if saved and "tags_text" in self.fields:
            self.initial.setdefault("tags_text", ", ".join(t.slug for t in case.tags.all()))

    def clean_tags_text(self) -> list[str]:
        raw = self.cleaned_data["tags_text"]
        tags: list[str] = []
        problems = []
        for tag in (part.strip() for part in raw.split(",")):
            if not tag:
                continue
            problem = rules.slug_problem(tag, limit=rules.TAG_LIMIT)
            if problem:
                problems.append(f"“{tag}”: {problem}")
            elif tag not in tags:
                tags.append(tag)
        if problems:
            raise ValidationError(problems)
        return sorted(tags)

    def _clean_budgets(self, length: int) -> list[int] | None:
        raw = self.cleaned_data[BUDGET_FIELDS[length]].strip()
        if not raw:
            return None
        parts = [part.strip() for part in raw.replace(";", ",").split(",")]
        try:
            minutes = [int(part) for part in parts]
        except ValueError:
            raise ValidationError(
                "Write whole numbers separated by commas, like “5, 8, 8, 8, 6, 5, 5”."
            ) from None
        problem = rules.budgets_problem(length, minutes)
        if problem:
            raise ValidationError(problem)
        return minutes

    def clean_budgets_45(self) -> list[int] | None:
        return self._clean_budgets(45)

    def clean_budgets_60(self) -> list[int] | None:
        return self._clean_budgets(60)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("status") == CaseStatus.PUBLISHED:
            self._check_ready(cleaned)
        return cleaned

    def _check_ready(self, cleaned: dict[str, Any]) -> None:
        # Only fields that are otherwise valid: an invalid one already shows its own error.
        for name, message in (
            ("candidate_prompt", rules.PUBLISH_NEEDS_PROMPT),
            ("interviewer_brief", rules.PUBLISH_NEEDS_BRIEF),
            ("model_answer", rules.PUBLISH_NEEDS_ANSWER),
        ):
            if name in cleaned and not cleaned[name]:
                self.add_error(name, message)
        for step in range(1, rules.STEP_COUNT + 1):
            name = _probe_field(step)
            if name in cleaned and not cleaned[name]:
                self.add_error(name, rules.publish_needs_probe(step))

    @property
    def step_budgets(self) -> dict[str, list[int]]:
        return {
            str(length): self.cleaned_data[name]
            for length, name in BUDGET_FIELDS.items()
            if self.cleaned_data.get(name)
        }

    @property
    def probes(self) -> dict[int, str]:
        return {
            step: self.cleaned_data[_probe_field(step)] for step in range(1, rules.STEP_COUNT + 1)
        }


def _label_rows(form: forms.BaseForm, labels: dict[str, str], what: str) -> None:
    """Give each input of a table row a name a screen reader reads: the column and the row.

    Tabular inlines show their labels only as column headings, which a screen reader does not
    announce for an input; the empty template row (prefix "__prefix__") is a new row.
    """
    index = form.prefix.rsplit("-", 1)[-1] if form.prefix else ""
    row = f"new {what}" if not index.isdigit() else f"{what} {int(index) + 1}"
    for name, label in labels.items():
        if name in form.fields:
            form.fields[name].widget.attrs["aria-label"] = f"{label}, {row}"


class FactForm(forms.ModelForm):
    class Meta:
        model = ClarificationFact
        fields = ["question", "answer", "position"]
        field_classes = {"answer": NormalisedTextField}
        labels = {"answer": "Answer (revealed when asked)", "position": "Order"}
        widgets = {"answer": forms.Textarea(attrs={"rows": 2, "cols": 50})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _label_rows(self, {"question": "Question", "answer": "Answer", "position": "Order"}, "fact")


class LabelledRowsFormSet(BaseInlineFormSet):
    row_name = "row"

    def add_fields(self, form: forms.ModelForm, index: int | None) -> None:
        super().add_fields(form, index)
        _label_rows(form, {"DELETE": "Delete"}, self.row_name)


def live_forms(formset: BaseInlineFormSet) -> list[forms.ModelForm]:
    """The forms of a cleaned formset that will be saved: neither deleted nor left empty."""
    return [
        form
        for form in formset.forms
        if hasattr(form, "cleaned_data")
        and (form.has_changed() or form.instance.pk is not None)
        and not form.cleaned_data.get("DELETE")
    ]


class FactFormSet(LabelledRowsFormSet):
    row_name = "fact"

    def clean(self) -> None:
        super().clean()
        if self.instance.status == CaseStatus.PUBLISHED:
            problem = rules.publish_needs_facts(len(live_forms(self)))
            if problem:
                raise ValidationError(problem)


class ExclusionForm(forms.ModelForm):
    rubric: RubricContext  # set by the inline for the request

    class Meta:
        model = CaseExclusion
        fields = ["item_key", "reason"]

    def __init__(self, *args: Any, rubric: RubricContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = rubric.item_choices()
        current = self.instance.item_key
        if current and current not in dict(choices):
            # A key the current rubric no longer has stays choosable, so the row can be seen.
            choices.append((current, f"{current} (not in {rubric.name})"))
        self.fields["item_key"] = forms.ChoiceField(
            label="Rubric item",
            choices=[("", "Choose an item…"), *choices],
            help_text=f"An item of {rubric.name} that does not apply to this case.",
        )
        _label_rows(self, {"item_key": "Rubric item", "reason": "Reason"}, "not applicable item")


class ExclusionFormSet(LabelledRowsFormSet):
    row_name = "not applicable item"

    def clean(self) -> None:
        # Our own check replaces Django's unique check (see CaseItemFormSet.clean).
        seen: set[str] = set()
        for form in live_forms(self):
            key = form.cleaned_data.get("item_key")
            if not key:
                continue  # a row without an item has its own "required" error
            if key in seen:
                form.add_error("item_key", "This rubric item is already listed.")
            seen.add(key)


class CaseItemForm(forms.ModelForm):
    # Shown only when a rubric item of the step is similar; until then the box is in the page
    # but hidden (a hidden input would leave the admin's label pointing at nothing).
    not_duplicate = forms.BooleanField(
        label="Not a duplicate",
        required=False,
        widget=forms.CheckboxInput(attrs={"hidden": True}),
        help_text="Tick to keep this item although a rubric item of its step is similar.",
    )

    class Meta:
        model = CaseItem
        fields = [
            "title",
            "key",
            "step",
            "candidate_text",
            "probe",
            "points",
            "kind",
            "required",
            "categories",
            "keywords",
        ]
        field_classes = {
            "candidate_text": NormalisedTextField,
            "probe": NormalisedTextField,
            "keywords": NormalisedTextField,
        }
        labels = {
            "title": "Item title",
            "key": "Item key",
            "keywords": "Evidence keywords",
        }
        help_texts = {
            "title": "What the candidate should do, as a short phrase: “Handles stock-outs”.",
            "keywords": "One phrase per line. Found in the candidate's notes, they hint that the "
            "item was covered.",
        }
        widgets = {
            "categories": forms.CheckboxSelectMultiple,
            "candidate_text": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
            "probe": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
            "keywords": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, rubric: RubricContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rubric = rubric
        self.fields["step"] = forms.TypedChoiceField(
            label="Step",
            coerce=int,
            choices=[("", "Choose a step…"), *rubric.step_choices()],
            help_text="The step whose checklist shows this item, after the rubric's own items.",
        )
        categories = cast(forms.ModelMultipleChoiceField, self.fields["categories"])
        categories.help_text = rules.CATEGORY_HELP
        categories.required = False
        # Read once per request, not once per item row (the queryset still checks a POST).
        categories.choices = rubric.category_choices
        self.overlaps: list[Overlap] = []
        if self.instance.pk is not None and not self.is_bound:
            self._show_overlaps(self._find_overlaps(self.initial))

    def _find_overlaps(self, values: Mapping[str, Any]) -> list[Overlap]:
        try:
            step = int(values.get("step") or 0)
        except (TypeError, ValueError):
            return []
        item = ItemText(
            key=str(values.get("key") or ""),
            step=step,
            title=str(values.get("title") or ""),
            candidate_text=str(values.get("candidate_text") or ""),
            keywords=tuple(
                line.strip()
                for line in str(values.get("keywords") or "").splitlines()
                if line.strip()
            ),
        )
        return find_overlaps(item, self.rubric.overlap_items())

    def _show_overlaps(self, overlaps: list[Overlap]) -> None:
        self.overlaps = overlaps
        if overlaps:
            field = self.fields["not_duplicate"]
            field.widget.attrs.pop("hidden", None)
            field.help_text = "; ".join(_overlap_text(o) for o in overlaps) + "."

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        overlaps = self._find_overlaps(cleaned)
        self._show_overlaps(overlaps)
        # Asked again only when the item is new or changed: an item kept as it was needs no
        # second confirmation on every later save of the case.
        changed = self.instance.pk is None or self.has_changed()
        if overlaps and changed and not cleaned.get("not_duplicate"):
            self.add_error(
                "not_duplicate",
                "; ".join(_overlap_text(o) for o in overlaps)
                + ". If it asks for something else, tick “Not a duplicate” and save again; "
                "otherwise remove it or change it.",
            )
        return cleaned


def _overlap_text(overlap: Overlap) -> str:
    shared = ", ".join(f"“{phrase}”" for phrase in overlap.shared[:3])
    return f"{overlap.describe()}: both mention {shared}"


class CaseItemFormSet(LabelledRowsFormSet):
    row_name = "case item"

    def clean(self) -> None:
        # Our own check replaces Django's unique-together check, whose message ("Please correct
        # the duplicate data for key") says neither which item nor what to do.
        keys: dict[str, int] = {}
        live = live_forms(self)
        for number, form in enumerate(self.forms, start=1):
            if form not in live:
                continue
            key = form.cleaned_data.get("key")
            if not key:
                continue
            if key in keys:
                form.add_error(
                    "key",
                    f"Case item {keys[key]} already uses the key “{key}”; keys must be unique "
                    "within a case.",
                )
            keys.setdefault(key, number)
        if self.instance.status == CaseStatus.PUBLISHED:
            for form in live:
                if "categories" in form.cleaned_data and not form.cleaned_data["categories"]:
                    form.add_error("categories", rules.PUBLISH_NEEDS_CATEGORY)
