"""Nobody can sign up under a name that looks like someone else's, or that shows nothing."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from accounts.usernames import fold_case, has_invisible, scripts_mixed, skeleton
from tests.factories import PASSWORD, UserFactory

CYRILLIC_A = "\u0430"
HANGUL_FILLER = "\u3164"
HANGUL_CHOSEONG_FILLER = "\u115f"
HALFWIDTH_HANGUL_FILLER = "\uffa0"


# The pure rules, without Django.


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("author", False),
        ("Алексей", False),
        ("田中たろう", False),
        (HANGUL_FILLER, True),
        (HANGUL_CHOSEONG_FILLER, True),
        (HALFWIDTH_HANGUL_FILLER, True),
        ("author" + HANGUL_FILLER, True),
        ("au\u200bthor", True),  # zero-width space
        ("au\u00adthor", True),  # soft hyphen
        ("\u2800", True),  # Braille blank
        ("a\ufe0f", True),  # variation selector
    ],
)
def test_has_invisible(name, expected):
    assert has_invisible(name) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("author", None),
        ("user_1.test@x", None),
        ("Алексей", None),
        ("Σωκράτης", None),
        ("田中たろう", None),  # Han with Hiragana: Japanese
        ("タナカ太郎", None),  # Katakana with Han
        ("tanaka太郎", None),  # Latin with Han
        ("김철수", None),
        (CYRILLIC_A + "uthor", "Cyrillic and Latin"),
        ("Alloτ", "Greek and Latin"),
        ("ΑВС", "Cyrillic and Greek"),  # Greek Alpha, Cyrillic Ve and Es
        ("한たろう", "Hangul and Hiragana"),
    ],
)
def test_scripts_mixed(name, expected):
    assert scripts_mixed(name) == expected


@pytest.mark.parametrize(
    ("look_alike", "original"),
    [
        (CYRILLIC_A + "uthor", "author"),
        ("АВЕ", "ABE"),  # all Cyrillic capitals
        ("ΑΒΕ", "ABE"),  # all Greek capitals
        ("сосо", "coco"),  # all Cyrillic small letters
        ("ΤΟΚΥΟ", "tokyo"),
        ("Iinda", "linda"),  # capital i for small L
        ("n00b", "noob"),
        ("ａｕｔｈｏｒ", "author"),  # fullwidth
        ("AUTHOR", "author"),
        ("Ԁ", "d"),  # a capital that only its small letter's entry covers
    ],
)
def test_skeleton_of_a_look_alike_is_the_original_s(look_alike, original):
    assert skeleton(look_alike) == skeleton(original)


@pytest.mark.parametrize(
    ("one", "other"), [("author", "authors"), ("anna", "hanna"), ("bob", "b0t")]
)
def test_skeleton_keeps_different_names_apart(one, other):
    assert skeleton(one) != skeleton(other)


@given(st.text(max_size=30))
@example("Ԁ")
def test_skeleton_is_idempotent(name):
    assert skeleton(skeleton(name)) == skeleton(name)


@given(st.text(max_size=30))
def test_fold_case_is_idempotent(name):
    assert fold_case(fold_case(name)) == fold_case(name)


@pytest.mark.parametrize(("one", "other"), [("Member", "mEMBER"), ("ΣΩΚΡΆΤΗΣ", "σωκράτης")])
def test_fold_case_ignores_case(one, other):
    assert fold_case(one) == fold_case(other)


# Sign-up applies them.


def _sign_up(username: str):
    return Client().post(
        reverse("accounts:signup"),
        {"username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def _errors(response) -> list[str]:
    return response.context["form"].errors.get("username", [])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        HANGUL_FILLER,
        HANGUL_FILLER * 3,
        HANGUL_CHOSEONG_FILLER,
        HALFWIDTH_HANGUL_FILLER,
        "member" + HANGUL_FILLER,
    ],
)
def test_signup_refuses_invisible_characters(name):
    response = _sign_up(name)
    assert response.status_code == 200
    assert _errors(response) == ["Usernames cannot contain invisible or blank characters."]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_refuses_a_mixed_script_look_alike_of_staff():
    UserFactory(username="author", is_staff=True)
    response = _sign_up(CYRILLIC_A + "uthor")
    assert _errors(response) == [
        "Use the letters of one alphabet: this name mixes Cyrillic and Latin."
    ]
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["АВЕ", "ΑΒΕ", "abe", "ABE", "ａｂｅ"])
def test_signup_refuses_names_that_look_like_an_existing_one(name):
    UserFactory(username="Abe")
    response = _sign_up(name)
    assert response.status_code == 200
    assert _errors(response) in (
        ["This name looks like an existing member's name. Choose another."],
        ["A user with that username already exists."],
    )
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_existing_look_alike_blocks_the_plain_name_too():
    UserFactory(username="АВЕ")  # made before these rules, all Cyrillic
    response = _sign_up("ABE")
    assert _errors(response) == ["This name looks like an existing member's name. Choose another."]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Алексей", "田中たろう", "josé", "user_1", "Σωκράτης"])
def test_signup_accepts_names_in_any_one_script(name):
    response = _sign_up(name)
    assert response.status_code == 302
    assert User.objects.get().username == name


@pytest.mark.django_db
def test_signup_stores_the_nfkc_form():
    assert _sign_up("ｎｅｗｂｉｅ").status_code == 302
    assert User.objects.get().username == "newbie"
