"""Who may see which parts of a case.

The brief, probes and model answer are interviewer material: sending them to someone who may
later be the case's candidate would spoil the case for them.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q
from django.http import Http404

from casebank.models import Case


def can_view_interviewer_material(user: AbstractBaseUser | AnonymousUser, case: Case) -> bool:
    """Staff; the interviewer of a session using the case; who finished it as candidate."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    # Imported here: interviews depends on casebank, not the other way round.
    from interviews.models import SessionState

    return case.sessions.filter(
        Q(interviewer=user) | Q(candidate=user, state=SessionState.FINISHED)
    ).exists()


def can_view_case(user: AbstractBaseUser | AnonymousUser, case: Case) -> bool:
    """Published cases are for every member; drafts only for staff."""
    return user.is_authenticated and (case.is_published or user.is_staff)


def get_case_for_user(user: AbstractBaseUser | AnonymousUser, slug: str) -> Case:
    """The case with this slug if the user may see it; 404 otherwise (drafts stay unlisted)."""
    case = Case.objects.filter(slug=slug).prefetch_related("tags").first()
    if case is None or not can_view_case(user, case):
        raise Http404("No such case.")
    return case
