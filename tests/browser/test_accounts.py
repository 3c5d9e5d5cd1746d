import re

from django.contrib.auth.models import User
from playwright.sync_api import expect

PASSWORD = "a-long-and-unusual-passphrase"


def test_newcomer_signs_up_logs_out_and_back_in(page, live_server):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Practise ML system design")
    page.get_by_role("link", name="Create an account").click()

    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Email").fill("newcomer@example.org")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text("Welcome back, newcomer")).to_be_visible()
    assert User.objects.filter(username="newcomer").exists()

    page.get_by_role("navigation", name="Main").get_by_text("newcomer").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Welcome back, newcomer")).to_be_visible()


def test_wrong_password_shows_a_clear_error(page, live_server, django_user_model):
    django_user_model.objects.create_user("known", password=PASSWORD)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("known")
    page.get_by_label("Password").fill("not-it")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password"
    )
