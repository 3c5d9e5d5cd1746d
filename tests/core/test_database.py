"""On PostgreSQL the app's connections prepare the statements they run again and again, so the
server parses and plans each once per connection (config/settings.py)."""

import pytest
from django.contrib.auth.models import User
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="prepared statements here are PostgreSQL's"
    ),
]


def _prepared(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_query_run_again_and_again_is_prepared_once_with_its_parameter_apart():
    # A lookup nothing else in the suite makes, with a new value each time.
    names = [f"Prepared{n}" for n in range(10)]
    User.objects.bulk_create(
        User(username=f"u{n}", first_name=name) for n, name in enumerate(names)
    )
    for name in names:
        assert User.objects.filter(first_name=name).get().first_name == name

    assert _prepared('WHERE "auth_user"."first_name" = $1') != []
    assert not any(name in statement for statement in _prepared("auth_user") for name in names)
