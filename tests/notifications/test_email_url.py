"""EMAIL_URL and the EMAIL_* variables become Django 6.1's MAILERS; bad values stop start-up."""

import pytest

from core.env import EnvError, mailer


@pytest.mark.parametrize(
    "url,options",
    [
        (
            "smtp://mailer:s3cret@mail.example.org:2525",
            {"host": "mail.example.org", "port": 2525, "username": "mailer",
             "password": "s3cret", "use_tls": False, "use_ssl": False},
        ),
        (
            "smtp+tls://ana%40example.org:p%3Ass@mail.example.org",
            {"host": "mail.example.org", "port": 587, "username": "ana@example.org",
             "password": "p:ss", "use_tls": True, "use_ssl": False},
        ),
        (
            "smtps://mail.example.org",
            {"host": "mail.example.org", "port": 465, "username": "", "password": "",
             "use_tls": False, "use_ssl": True},
        ),
    ],
)  # fmt: skip
def test_it_reads_smtp_urls(monkeypatch, url, options):
    monkeypatch.setenv("EMAIL_URL", url)
    assert mailer() == {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": options,
    }


def test_console_and_unset(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "console://")
    assert mailer() == {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    monkeypatch.setenv("EMAIL_URL", "")
    assert mailer() is None


@pytest.mark.parametrize(
    "url", ["gopher://x", "smtp://", "smtp://host:notaport", "mail.example.org"]
)
def test_a_bad_email_url_is_refused_with_the_variable_named(monkeypatch, url):
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(EnvError, match="EMAIL_URL="):
        mailer()


def test_the_embedded_default_prints_mail_to_the_terminal():
    import subprocess
    import sys

    from tests.fixtures.servers import ROOT

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'multitude.settings'; "
        "django.setup(); from django.conf import settings; "
        "print(settings.MAILERS['default']['BACKEND'], settings.TASKS['default']['BACKEND'])"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [
        "django.core.mail.backends.console.EmailBackend",
        "django_tasks_db.DatabaseBackend",
    ]
