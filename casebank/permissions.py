"""Who may see a case at all. Who may see its interviewer material (the brief, answers, probes,
case items and model answer) depends on the user's sessions, so that rule is interviews':
interviews.permissions.sees_case_material.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404

from casebank.models import Case


def can_view_case(user: User | AnonymousUser, case: Case) -> bool:
    """Published cases are for every member; drafts only for staff."""
    return user.is_authenticated and (case.is_published or user.is_staff)


def get_case_for_user(user: User | AnonymousUser, slug: str) -> Case:
    """The case with this slug if the user may see it; 404 otherwise (drafts stay unlisted)."""
    case = Case.objects.filter(slug=slug).prefetch_related("tags").first()
    if case is None or not can_view_case(user, case):
        raise Http404("No such case.")
    return case
