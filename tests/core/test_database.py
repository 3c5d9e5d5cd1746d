"""On PostgreSQL the app's connections prepare the statements they run again and again, so the
server parses and plans each once per connection (config/settings.py)."""

import pytest
from django.contrib.auth.models import User
from django.db import connection

from tests.factories import UserFactory

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


def test_a_query_run_five_times_is_prepared_with_its_parameters_apart():
    users = UserFactory.create_batch(6)
    for user in users:
        assert User.objects.filter(username=user.username).get() == user

    statements = _prepared('"auth_user"."username" =')
    assert len(statements) == 1
    assert "$1" in statements[0]  # one statement for every username, not one per value
    for user in users:
        assert user.username not in statements[0]
