"""core.queries.single: the row a unique key finds, read without an ORDER BY."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.queries import single
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_single_finds_the_row_or_none_without_sorting():
    user = UserFactory(username="ada")
    with CaptureQueriesContext(connection) as queries:
        found = single(User.objects.filter(username="ada"))
        missing = single(User.objects.filter(username="nobody"))
        name = single(User.objects.filter(pk=user.pk).values_list("username", flat=True))

    assert found == user
    assert missing is None
    assert name == "ada"
    assert len(queries) == 3
    assert all("ORDER BY" not in query["sql"] for query in queries.captured_queries)
