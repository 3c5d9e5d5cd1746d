import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.types import AuthedRequest
from progress import export
from progress import overview as reports

# The page and the CSV take no input: they show the logged-in user's own sessions, nothing else.


@login_required
@require_GET
def overview(request: AuthedRequest) -> HttpResponse:
    return render(
        request, "progress/overview.html", {"overview": reports.build_overview(request.user)}
    )


@login_required
@require_GET
def history_csv(request: AuthedRequest) -> HttpResponse:
    rows = list(reversed(reports.finished_as_candidate(request.user)))  # newest first, as shown
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="spar-history.csv"'
    csv.writer(response).writerows(export.history_rows(rows))
    return response
