from datetime import datetime, tzinfo
from typing import Any

from django import forms

from accounts.profile_forms import check_future
from casebank.models import Case, Difficulty, Domain
from groups.models import DESCRIPTION_LIMIT, NAME_LIMIT, Slot, SlotRole
from interviews.forms import TextareaField, call_url_field, start_field
from interviews.services import LENGTHS
from scorecards.stats import CaseOption


class GroupForm(forms.Form):
    name = forms.CharField(max_length=NAME_LIMIT, label="Group name")
    description = TextareaField(
        required=False,
        max_length=DESCRIPTION_LIMIT,
        label="What the group is for",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, plain text: who it is for, when you usually practise.",
    )


class InviteForm(forms.Form):
    action = forms.ChoiceField(choices=[("regenerate", "New link"), ("revoke", "Revoke")])


class SharingForm(forms.Form):
    shares_progress = forms.BooleanField(required=False, label="Share my progress with this group")


class SlotForm(forms.Form):
    """An offered time, typed in the member's own zone."""

    length_minutes = forms.TypedChoiceField(
        label="Length", choices=[(n, f"{n} minutes") for n in LENGTHS], coerce=int, initial=45
    )
    role = forms.ChoiceField(
        label="Role", choices=SlotRole.choices, initial=SlotRole.EITHER, widget=forms.RadioSelect
    )
    level = forms.ChoiceField(
        label="Level", choices=[("", "Any level"), *Difficulty.choices], required=False
    )
    domain = forms.ChoiceField(
        label="Topic", choices=[("", "Any domain"), *Domain.choices], required=False
    )

    def __init__(self, *args: Any, zone: tzinfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts_at"] = start_field(zone)
        self.fields["call_url"] = call_url_field()
        self.fields[
            "call_url"
        ].help_text = (
            "Optional. Without one, the session gets this site's default call room, if any."
        )
        self.order_fields(["starts_at", "length_minutes", "role", "level", "domain", "call_url"])

    def clean_starts_at(self) -> datetime:
        return check_future(self.cleaned_data["starts_at"])

    def clean_role(self) -> SlotRole:
        return SlotRole(self.cleaned_data["role"])


class CaseChoiceField(forms.ModelChoiceField):
    def __init__(self, *args: Any, suggested: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suggested = suggested

    def label_from_instance(self, obj: Case) -> str:
        suffix = " — suggested for their weakest concept" if obj.pk == self.suggested else ""
        return f"{obj.title} ({obj.get_difficulty_display()}){suffix}"


class ClaimForm(forms.Form):
    """Claiming a slot: the role (for an "either" slot) and, for an interviewer, the case,
    among those the candidate (the member who offered the slot) has not done."""

    surprise = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        slot: Slot,
        options: list[CaseOption],
        suggested: int | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.slot = slot
        if slot.role == SlotRole.EITHER:
            self.fields["as_role"] = forms.ChoiceField(
                label="Your role",
                choices=[
                    (SlotRole.INTERVIEWER, "I interview"),
                    (SlotRole.CANDIDATE, "I am interviewed"),
                ],
                widget=forms.RadioSelect,
            )
        if slot.role != SlotRole.INTERVIEWER:
            self.fields["case"] = CaseChoiceField(
                queryset=Case.objects.filter(pk__in=[o.case_id for o in options]).order_by("title"),
                suggested=suggested,
                required=False,
                label="Case (if you interview)",
                empty_label="Let Spar choose (the suggested case)",
                help_text=(
                    f"Cases {slot.offered_by.get_username()} has not done as candidate"
                    + (f", {slot.get_domain_display()}" if slot.domain else "")
                    + (f", {slot.get_level_display()} level" if slot.level else "")
                    + "."
                ),
            )

    def clean_as_role(self) -> SlotRole:
        return SlotRole(self.cleaned_data["as_role"])

    @property
    def asks_case(self) -> bool:
        return "case" in self.fields
