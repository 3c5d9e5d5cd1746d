import factory
from django.contrib.auth.models import User
from django.utils import timezone

from accounts.models import LoginFailure

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class LoginFailureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LoginFailure

    username = "member"
    ip_address = "127.0.0.1"
    created_at = factory.LazyFunction(timezone.now)
