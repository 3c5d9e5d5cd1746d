from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from casebank import permissions
from casebank.forms import LibraryFilterForm
from casebank.models import Case
from core.types import AuthedRequest

# The one import from a higher app, on purpose: whether a user may see a case's interviewer
# material depends on their interview sessions, a rule that belongs to interviews.
from interviews.permissions import sees_case_material


@require_GET
@login_required
def case_library(request: AuthedRequest) -> HttpResponse:
    form = LibraryFilterForm(request.GET)
    # The long texts (up to 20,000 characters each) are not shown in the list.
    listed = Case.objects.for_library().defer(
        "candidate_prompt", "interviewer_brief", "model_answer"
    )
    cases = list(form.filter_cases(listed, user=request.user))
    template = "casebank/library.html"
    # A history restore (back button with htmx's cache off) needs the whole page again.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#case-list"
    response = render(request, template, {"form": form, "cases": cases})
    # The same URL answers with a page or a fragment: caches must keep the two apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@login_required
def case_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    case = permissions.get_case_for_user(request.user, slug)
    show_notes = sees_case_material(request.user, case)
    context = {
        "case": case,
        # Questions only, as strings: the template cannot reach an answer through them.
        "questions": list(case.facts.values_list("question", flat=True)),
        "show_notes": show_notes,
    }
    if show_notes:
        # Interviewer material is only fetched, and so only renderable, for those allowed to see it.
        context |= {
            "facts": list(case.facts.all()),
            "probes": list(case.probes.all()),
            "extra_items": list(case.extra_items.prefetch_related("categories")),
        }
    return render(request, "casebank/detail.html", context)
