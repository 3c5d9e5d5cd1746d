"""The shared whiteboard's endpoint, for frontend/board/index.jsx and the tests alike.

    GET  /sessions/<id>/board.json → {"version", "elements", "read_only"}
    POST the same address, {"base_version", "elements"} as JSON with X-CSRFToken
         → 200 {"version", "elements"}: the elements the saving browser lacks
         → 400 {"error"}: a save the board refuses (interviews/board.py), nothing stored
         → 403 {"error"}: the interview is finished and the board read-only

A save never overwrites silently and so never needs a 409: both screens' changes merge per
element, and the reply hands back the server's copy of any element that lost the merge.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.types import AuthedRequest
from interviews import board, permissions, services
from interviews.models import SessionBoard


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def board_json(request: AuthedRequest, session_id: int) -> HttpResponse:
    if request.method == "POST":
        return _save(request, session_id)
    session, role = permissions.get_session_for_user(request.user, session_id)
    row = SessionBoard.objects.filter(session=session).only("version", "elements").first()
    current = board.Board(row.version, row.elements) if row is not None else board.Board()
    payload = board.board_payload(current)
    payload["read_only"] = permissions.board_read_only(role, session)
    return JsonResponse(payload)


def _save(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, _ = permissions.get_session_to_draw(request.user, session_id)
    # Django parses other content types into request.POST first, which may use up the body.
    if request.content_type != "application/json":
        return _refused("Send the board as JSON (Content-Type: application/json).", status=400)
    try:
        update = board.parse_update(request.body)
        merged, reply = services.save_board(session=session, update=update, by=request.user)
    except RequestDataTooBig:
        return _refused(board.TOO_LARGE, status=400)
    except board.BoardError as error:
        return _refused(error.message, status=400)
    except services.SessionError as error:
        return _refused(str(error), status=403)
    return JsonResponse(board.reply_payload(merged, reply))


def _refused(message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
