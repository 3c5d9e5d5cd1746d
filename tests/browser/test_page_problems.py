"""What the browser tests count as a problem on a page (no browser needed)."""

from dataclasses import dataclass

from tests.browser.conftest import PageProblems


@dataclass
class Console:
    type: str
    text: str


def _seen(*messages: Console) -> list[str]:
    problems = PageProblems()
    for message in messages:
        problems.console(message)
    return problems.messages


def test_an_aborted_request_is_not_a_problem():
    # A click aborts a poll in flight by design (the room's hx-sync), and closing a page aborts
    # what it still had on the way; htmx reports both with console.error.
    assert (
        _seen(
            Console("error", "htmx:afterRequest, [object HTMLDivElement]"),
            Console("error", "htmx:sendAbort, [object HTMLDivElement]"),
        )
        == []
    )


def test_a_failed_request_still_is():
    # The afterRequest report that accompanies a failure is passed over; the failure is not.
    assert _seen(
        Console("error", "htmx:afterRequest, [object HTMLFormElement]"),
        Console("error", "htmx:sendError, [object HTMLFormElement]"),
        Console("error", "htmx:responseError, [object HTMLFormElement]"),
        Console("warning", "something odd"),
        Console("log", "fine"),
    ) == [
        "console error: htmx:sendError, [object HTMLFormElement]",
        "console error: htmx:responseError, [object HTMLFormElement]",
        "console warning: something odd",
    ]
