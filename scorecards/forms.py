from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms

from casebank.checklist import ItemRef
from interviews.checklist import find_session_item
from interviews.models import Mark, MarkValue, Session
from rubrics import scoring
from rubrics.models import RubricVersion
from scorecards.services import SelfMark

EXPECTED_CHOICES = [
    (MarkValue.COVERED.value, "Covered"),
    (MarkValue.PARTIAL.value, "Partial"),
    (MarkValue.MISSED.value, "Missed"),
    ("", "Not marked"),
]
RED_FLAG_CHOICES = [(MarkValue.OBSERVED.value, "I did this"), ("", "Not observed")]


class SelfMarkForm(forms.Form):
    """The candidate's mark on one item. Prefixed with the item's key, so one page holds a form
    per item and the per-item save reads its own fields out of the whole page's data."""

    mark = forms.ChoiceField(required=False, widget=forms.RadioSelect)
    after_hint = forms.BooleanField(required=False, label="after a hint")

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        key: str,
        kind: scoring.Kind | str,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, prefix=key, **kwargs)
        self.key = key
        self.red_flag = scoring.Kind(kind) is scoring.Kind.RED_FLAG
        mark_field = cast(forms.ChoiceField, self.fields["mark"])
        mark_field.choices = RED_FLAG_CHOICES if self.red_flag else EXPECTED_CHOICES
        if self.red_flag:
            del self.fields["after_hint"]

    @property
    def was_sent(self) -> bool:
        """Whether the data holds this item at all (a radio group always sends its choice)."""
        return self.add_prefix("mark") in self.data

    def self_mark(self) -> SelfMark:
        return self.cleaned_data["mark"], self.cleaned_data.get("after_hint", False)


def self_mark_forms(
    items: Sequence[scoring.Item],
    stored: Mapping[str, Mark],
    data: Mapping[str, Any] | None = None,
) -> list[SelfMarkForm]:
    """One form per item, starting from the candidate's stored draft marks."""
    return [
        SelfMarkForm(
            data,
            key=item.key,
            kind=item.kind,
            initial=_initial(stored.get(item.key)),
        )
        for item in items
    ]


def _initial(mark: Mark | None) -> dict[str, object]:
    if mark is None:
        return {"mark": "", "after_hint": False}
    return {"mark": mark.mark, "after_hint": mark.after_hint}


def sent_marks(item_forms: Sequence[SelfMarkForm]) -> dict[str, SelfMark]:
    """The marks of the valid forms present in the data; items missing from it are left alone
    (a page loaded before a case item was added must not clear anything)."""
    return {form.key: form.self_mark() for form in item_forms if form.was_sent}


class SelfAssessmentActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("save", "Save draft"), ("submit", "Submit")])


class ItemForm(forms.Form):
    """Which of the session's items a per-item save is for."""

    item = forms.CharField(max_length=100)

    def __init__(self, *args: Any, session: Session, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session

    def clean_item(self) -> ItemRef:
        ref = find_session_item(self.session, self.cleaned_data["item"])
        if ref is None:
            raise forms.ValidationError("That checklist item is not part of this session.")
        return ref


class RescoreForm(forms.Form):
    version = forms.ChoiceField(label="Re-score under")

    def __init__(self, *args: Any, versions: Sequence[RubricVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions = {str(version.pk): version for version in versions}
        cast(forms.ChoiceField, self.fields["version"]).choices = [
            (pk, f"{version.rubric.name} v{version.number}")
            for pk, version in self.versions.items()
        ]

    def clean_version(self) -> RubricVersion:
        return self.versions[self.cleaned_data["version"]]
