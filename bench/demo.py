"""The demo database and a running peer session, for the in-process benchmarks.

Call these after django.setup(): the benchmarks choose their database and settings first.
"""

from io import StringIO
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from casebank.models import Case
    from interviews.models import Session


def load_demo() -> None:
    """A fresh database with the demo's people, cases and rubric (the `setup_demo` command)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("setup_demo", verbosity=0, stdout=StringIO())


def start_peer_session(case: "Case") -> "Session":
    """The demo interviewer and candidate in a peer session on `case`, running on step 1."""
    from django.contrib.auth.models import User

    from interviews import services
    from interviews.models import SessionMode
    from rubrics.services import latest_published_version

    session = services.create_session(
        host=User.objects.get(username="interviewer"),
        case=case,
        rubric_version=latest_published_version(),
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    session = services.join_session(
        token=session.invite_token, user=User.objects.get(username="candidate")
    )
    return services.start_session(session=session)
