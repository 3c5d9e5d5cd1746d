import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def test_home_explains_spar_to_newcomers(client):
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Practise ML system design interviews with a peer" in html
    assert reverse("accounts:signup") in html


def test_home_greets_logged_in_user(client, user):
    client.force_login(user)
    html = client.get(reverse("core:home")).content.decode()
    assert "Welcome back, <strong>member</strong>" in html
    assert "Log out" in html


def test_security_headers_on_every_page(client):
    response = client.get(reverse("core:home"))
    html = response.content.decode()
    nonce = html.split('nonce="', 1)[1].split('"', 1)[0]
    assert len(nonce) >= 16
    assert response["Content-Security-Policy"] == EXPECTED_CSP.format(nonce=nonce)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client, user):
    client.force_login(user)
    html = client.get(reverse("core:home")).content.decode()
    assert " style=" not in html
    assert "<style" not in html
    for chunk in html.split("<script")[1:]:
        opening = chunk.split(">", 1)[0]
        assert "src=" in opening, f"inline script found: <script{opening}>"


def test_htmx_is_served_locally_with_csp_friendly_config(client):
    html = client.get(reverse("core:home")).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert '"includeIndicatorStyles":false' in html
    assert '"allowEval":false' in html


def test_healthz_checks_database(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(reverse("core:healthz"))
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_rejects_post(client):
    assert client.post(reverse("core:healthz")).status_code == 405


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
