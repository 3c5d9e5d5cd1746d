from datetime import datetime, tzinfo
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User

from accounts.profile_forms import LocalDateTimeField, check_future
from casebank.models import Case, CaseQuerySet
from interviews import permissions
from interviews.models import (
    CALL_URL_LIMIT,
    COMMENT_LIMIT,
    HINT_LIMIT,
    NOTE_LIMIT,
    REASON_LIMIT,
    MarkValue,
    SessionMode,
    TargetLevel,
    validate_call_url,
)
from interviews.services import LENGTHS, ControlAction
from rubrics.models import RubricVersion

STEP_NUMBERS = range(1, 8)


class CreateSessionForm(forms.Form):
    case = forms.ModelChoiceField(
        queryset=Case.objects.none(),
        required=False,
        empty_label="Choose a case…",
        help_text=(
            "Or press “Surprise me”. With a partner you can still change the case in the room "
            "until you start; once they join, Spar lists the cases they have not done."
        ),
    )
    rubric_version = forms.ModelChoiceField(
        queryset=RubricVersion.objects.none(), label="Rubric", empty_label=None
    )
    length_minutes = forms.TypedChoiceField(
        label="Length",
        choices=[(n, f"{n} minutes") for n in LENGTHS],
        coerce=int,
        initial=45,
    )
    mode = forms.ChoiceField(
        label="My role",
        choices=[
            (SessionMode.PEER, "Interviewer — I will invite a candidate"),
            (SessionMode.SOLO, "Solo practice — I am the candidate and score myself afterwards"),
        ],
        initial=SessionMode.PEER,
        widget=forms.RadioSelect,
    )
    surprise = forms.BooleanField(required=False, widget=forms.HiddenInput)
    target_level = forms.ChoiceField(
        label="Judged at",
        choices=[("", "The case's level"), *TargetLevel.choices],
        required=False,
        help_text=(
            "Items above this level are stretch: they count when covered and are never a loss."
        ),
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        hide_done: bool = False,
        zone: tzinfo | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["call_url"] = call_url_field()
        self.fields["scheduled_at"] = start_field(zone, required=False)
        self.fields["scheduled_at"].help_text = (
            "Optional. Your partner sees it in their own time zone and can accept it or "
            "propose another."
        )
        cases = Case.objects.published().order_by("title")
        case_field = cast(forms.ModelChoiceField, self.fields["case"])
        case_field.queryset = cases.not_done_by(user) if hide_done else cases
        version_field = cast(forms.ModelChoiceField, self.fields["rubric_version"])
        version_field.queryset = RubricVersion.objects.published().select_related("rubric")
        for number in STEP_NUMBERS:
            self.fields[f"budget_{number}"] = forms.IntegerField(
                label=f"Step {number}",
                required=False,
                min_value=1,
                max_value=60,
                help_text="minutes; empty = the rubric's budget",
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("surprise"):
            cases = Case.objects.published()
            # Whose history counts is the candidate's: the host's own in solo practice; with a
            # partner nobody is known yet (the room offers the partner's fresh cases once they
            # join), and the host, who interviews, may well have done the case.
            if cleaned.get("mode") == SessionMode.SOLO:
                cases = cases.not_done_by(self.user)
            else:
                # …but never one the host is a candidate on right now: they could not see it.
                cases = cases.exclude(pk__in=permissions.candidacies(self.user).values("case_id"))
            cleaned["case"] = cases.pick_random()
            if cleaned["case"] is None and cleaned.get("mode") == SessionMode.SOLO:
                raise forms.ValidationError(
                    "You have done every published case as candidate already."
                )
            if cleaned["case"] is None:
                raise forms.ValidationError(
                    "Every published case is one you are a candidate on right now: finish and "
                    "assess those interviews first, or practise solo."
                )
        elif not cleaned.get("case") and "case" not in self.errors:
            self.add_error("case", "Choose a case, or press “Surprise me”.")
        case = cleaned.get("case")
        if (
            case is not None
            and cleaned.get("mode") == SessionMode.PEER
            and permissions.candidate_on_case(self.user, case)
        ):
            self.add_error("case", permissions.CANDIDATE_ON_CASE)
        return cleaned

    def clean_scheduled_at(self) -> datetime | None:
        moment = self.cleaned_data.get("scheduled_at")
        return check_future(moment) if moment is not None else None

    def budgets(self) -> dict[int, int]:
        return {
            number: self.cleaned_data[f"budget_{number}"]
            for number in STEP_NUMBERS
            if self.cleaned_data.get(f"budget_{number}")
        }

    def budget_fields(self) -> list[forms.BoundField]:
        return [self[f"budget_{number}"] for number in STEP_NUMBERS]

    def schedule_fields(self) -> list[forms.BoundField]:
        return [self["call_url"], self["scheduled_at"]]


class ChangeCaseForm(forms.Form):
    """Another case for a session that has not started: a chosen one, or a random fresh one."""

    case = forms.ModelChoiceField(
        queryset=Case.objects.none(),
        required=False,
        empty_label="Choose a case…",
        error_messages={
            "invalid_choice": (
                "That case cannot be chosen: it is not published, it is already this session's "
                "case, or the candidate has had it before."
            )
        },
    )
    surprise = forms.BooleanField(required=False)

    def __init__(self, *args: Any, choices: CaseQuerySet, current: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices.exclude(pk=current.pk)
        cast(forms.ModelChoiceField, self.fields["case"]).queryset = self.choices

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("surprise"):
            cleaned["case"] = self.choices.pick_random()
            if cleaned["case"] is None:
                raise forms.ValidationError(
                    "There is no other published case the candidate has not done."
                )
        elif not cleaned.get("case") and "case" not in self.errors:
            self.add_error("case", "Choose a case, or press “Surprise me”.")
        return cleaned


class CaseListFilterForm(forms.Form):
    """The query string of the new-session page: a list filter and a case chosen in advance
    (the case page's "Start a session with this case" link)."""

    hide_done = forms.BooleanField(required=False, label="Hide cases I have done as candidate")
    case = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ControlForm(forms.Form):
    action = forms.TypedChoiceField(
        choices=[(action.value, action.label) for action in ControlAction], coerce=ControlAction
    )
    step = forms.IntegerField(required=False, min_value=1, max_value=99)
    # The step the page showed when the control was pressed: makes a double click harmless.
    at_step = forms.IntegerField(required=False, min_value=1, max_value=99)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("action") == ControlAction.JUMP and not cleaned.get("step"):
            self.add_error("step", "Say which step to go to.")
        return cleaned


class InviteForm(forms.Form):
    action = forms.ChoiceField(choices=[("regenerate", "New link"), ("revoke", "Revoke")])


class TextareaField(forms.CharField):
    """A textarea's text with line breaks as "\n".

    Browsers submit a textarea's line breaks as CRLF but count each as one character towards its
    `maxlength`; normalising before the length check makes the limit the one the user saw.
    """

    def to_python(self, value: object) -> str:
        # Empty input gives the field's empty_value, "": never None, which it is not set to.
        text = cast(str, super().to_python(value))
        return text.replace("\r\n", "\n")


class NotesForm(forms.Form):
    text = TextareaField(
        required=False,
        strip=False,
        max_length=NOTE_LIMIT,
        error_messages={
            "max_length": (
                f"Notes for one step are limited to {NOTE_LIMIT:,} characters (these have "
                "%(show_value)s). Nothing was saved: shorten them and they will save."
            )
        },
    )
    base_version = forms.IntegerField(min_value=0)


class MarkForm(forms.Form):
    item = forms.CharField(max_length=100)
    mark = forms.ChoiceField(choices=[("", "Not marked"), *MarkValue.choices], required=False)
    after_hint = forms.BooleanField(required=False)
    # Why the item does not apply; read only with the "not applicable" mark.
    reason = forms.CharField(max_length=REASON_LIMIT, required=False)


class FactForm(forms.Form):
    revealed = forms.BooleanField(required=False)


class CommentForm(forms.Form):
    text = TextareaField(
        required=False, max_length=COMMENT_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )


class HintForm(forms.Form):
    text = forms.CharField(max_length=HINT_LIMIT, label="Gave hint")


class StateForm(forms.Form):
    v = forms.IntegerField(min_value=0)


def call_url_field() -> forms.URLField:
    return forms.URLField(
        label="Call link",
        required=False,
        max_length=CALL_URL_LIMIT,
        assume_scheme="https",
        validators=[validate_call_url],
        error_messages={"invalid": "Enter a call link starting with https://."},
        help_text="Optional: a Meet, Zoom, Jitsi… address (https). Both of you see it as a link.",
    )


def start_field(zone: tzinfo | None, *, required: bool = True) -> LocalDateTimeField:
    field = LocalDateTimeField(label="Start", required=required)
    if zone is not None:
        field.zone = zone
        field.help_text = f"In your time zone, {zone}."
    return field


class CallLinkForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["call_url"] = call_url_field()


class ProposeTimeForm(forms.Form):
    """A start time typed in the viewer's zone."""

    def __init__(self, *args: Any, zone: tzinfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts_at"] = start_field(zone)

    def clean_starts_at(self) -> datetime:
        return check_future(self.cleaned_data["starts_at"])
