"""A test-only page and board endpoint for tests/browser/test_board_bundle.py.

Used as ROOT_URLCONF, so responses pass through the project's real middleware: the exact CSP
header of config/settings.py, CSRF checks, and static files from the live server. The endpoint
keeps one board in memory and applies interviews/board.py's rules, as the real view will; a test
can queue canned failures to see how the client copes.
"""

import json
import threading
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import include, path

from interviews.board import (
    Board,
    BoardError,
    BoardUpdate,
    apply_update,
    board_payload,
    parse_update,
    reply_payload,
)

PAGE = """{% load static %}<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Board harness</title>
  <link rel="icon" href="{% static 'img/favicon.svg' %}" type="image/svg+xml">
  <script src="{% static 'js/board.js' %}" defer></script>
</head>
<body>
  <main>
    <h1>Board harness</h1>
    <div id="board" data-board {% if hidden %}hidden{% endif %}
         data-board-url="/board-harness/board.json"
         data-read-only="{{ read_only }}"
         data-asset-path="{% static 'vendor/excalidraw/' %}"
         data-bundle-url="{% static 'vendor/excalidraw/mount.js' %}"
         data-csrf-token="{{ csrf_token }}"></div>
  </main>
</body>
</html>
"""


@dataclass
class HarnessState:
    board: Board = field(default_factory=Board)
    read_only: bool = False
    # Answers (status, JSON body) given to the next POSTs instead of saving, oldest first.
    canned: list[tuple[int, dict]] = field(default_factory=list)
    posts: list[BoardUpdate] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def other_screen_draws(self, elements: list[dict]) -> int:
        """Save as the other participant would; return the new board version."""
        with self.lock:
            self.board, _ = apply_update(self.board, BoardUpdate(self.board.version, elements))
            return self.board.version


STATE = HarnessState()


def reset() -> HarnessState:
    # One board per test, shared with the live server's threads.
    global STATE
    STATE = HarnessState()
    return STATE


def page(request: HttpRequest) -> HttpResponse:
    template = engines["django"].from_string(PAGE)
    context = {
        "hidden": request.GET.get("hidden") == "1",
        "read_only": "true" if request.GET.get("read_only") == "1" else "false",
    }
    return HttpResponse(template.render(context, request))


def board_json(request: HttpRequest) -> HttpResponse:
    state = STATE
    with state.lock:
        if request.method == "GET":
            return JsonResponse(board_payload(state.board) | {"read_only": state.read_only})
        if state.read_only:
            return JsonResponse({"error": "The board is read-only."}, status=403)
        if state.canned:
            status, payload = state.canned.pop(0)
            return JsonResponse(payload, status=status)
        try:
            update = parse_update(request.body)
            state.board, reply = apply_update(state.board, update)
        except BoardError as error:
            return JsonResponse({"error": error.message}, status=400)
        state.posts.append(update)
        return HttpResponse(
            json.dumps(reply_payload(state.board, reply)), content_type="application/json"
        )


urlpatterns = [
    path("board-harness/", page),
    path("board-harness/board.json", board_json),
    # The rest of the site, so that its error pages (a favicon's 404, say) render as usual.
    path("", include("config.urls")),
]
