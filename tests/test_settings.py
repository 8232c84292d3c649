"""Settings as an operator meets them: production passes Django's deployment checklist,
SQLite runs in WAL mode, every response carries the security headers, and static and
media files are served where they should be and nowhere else."""

import json
import secrets
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.helpers import child_env, gongzhi

PRODUCTION = "gongzhi.config.settings.production"


def production_env(data_dir, **overrides):
    settings = {
        "DJANGO_SETTINGS_MODULE": PRODUCTION,
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "example.org",
    }
    return child_env(data_dir, **{**settings, **overrides})


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    result = gongzhi("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_long_secret_key(tmp_path):
    env = production_env(tmp_path, SECRET_KEY="too-short")

    result = gongzhi("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_default_database_is_sqlite_in_wal_mode(tmp_path):
    probe = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA journal_mode')\n"
        "    print(connection.vendor, cursor.fetchone()[0])\n"
    )

    result = gongzhi("shell", "-v", "0", "-c", probe, env=child_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sqlite", "wal"]
    assert (tmp_path / "gongzhi.sqlite3").exists()


def test_database_url_selects_postgresql(tmp_path):
    probe = (
        "from django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "print(db['ENGINE'], db['HOST'], db['PORT'], db['NAME'])\n"
    )
    env = child_env(tmp_path, DATABASE_URL="postgres://gz@db.example:5433/gongzhi_city")

    result = gongzhi("shell", "-v", "0", "-c", probe, env=env)

    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "db.example",
        "5433",
        "gongzhi_city",
    ]


def test_production_over_https_sends_hsts_and_redirects_plain_http(tmp_path):
    probe = (
        "import json\n"
        "from django.test import Client\n"
        "secure = Client().get('/healthz', secure=True, HTTP_HOST='example.org')\n"
        "plain = Client().get('/', HTTP_HOST='example.org')\n"
        "probe = Client().get('/healthz', HTTP_HOST='example.org')\n"
        "print(json.dumps({'hsts': secure.get('Strict-Transport-Security'),"
        " 'plain': plain.status_code, 'location': plain.get('Location'),"
        " 'probe': probe.status_code}))\n"
    )

    result = gongzhi("shell", "-v", "0", "-c", probe, env=production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["plain"] == 301
    assert seen["location"] == "https://example.org/"
    # a load balancer's plain-HTTP health probe is answered, not redirected
    assert seen["probe"] == 200


def test_development_serves_static_files_without_debug_and_media_files(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "photo.txt").write_text("a case photo")
    probe = (
        "from django.test import Client\n"
        "client = Client()\n"
        "print(client.get('/static/gongzhi/app.css').status_code,"
        " client.get('/media/photo.txt').status_code)\n"
    )

    result = gongzhi(
        "shell", "-v", "0", "-c", probe, env=child_env(tmp_path, ALLOWED_HOSTS="testserver")
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "200"]


def test_production_does_not_serve_uploaded_files_publicly(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "photo.txt").write_text("a case photo")
    probe = (
        "from django.test import Client\n"
        "print(Client().get('/media/photo.txt', secure=True, HTTP_HOST='example.org')"
        ".status_code)\n"
    )

    result = gongzhi("shell", "-v", "0", "-c", probe, env=production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["404"]


def test_every_response_carries_the_security_headers(client):
    response = client.get(reverse("health"))

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


class ScriptFinder(HTMLParser):
    """Collects what the Content-Security-Policy would block: inline scripts and on*=
    event handler attributes."""

    def __init__(self):
        super().__init__()
        self.inline: list[str] = []
        self.in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.inline += [f"{tag} {name}=" for name in attributes if name.startswith("on")]
        if tag == "script" and "src" not in attributes:
            self.in_inline_script = attributes.get("type") not in {"application/json"}

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_inline_script = False

    def handle_data(self, data):
        if self.in_inline_script and data.strip():
            self.inline.append(data.strip()[:60])


@pytest.mark.django_db
def test_the_page_frame_needs_no_inline_script(client, people):
    client.force_login(people["worker"])

    response = client.get(reverse("home"))

    finder = ScriptFinder()
    finder.feed(response.content.decode())
    assert response.status_code == 200
    assert finder.inline == []
    assert b"data-autosubmit" in response.content


def test_the_favicon_browsers_ask_for_points_at_a_static_file(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/gongzhi/favicon.svg"
    assert finders.find("gongzhi/favicon.svg") is not None
