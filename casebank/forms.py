from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q

from casebank.models import CaseQuerySet, CaseStatus, Difficulty, Domain, Tag

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
        return self.cleaned_data["q"].split()

    def filter_cases(self, cases: CaseQuerySet, *, user: AbstractBaseUser) -> CaseQuerySet:
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
