"""Settings come from the environment; unset, the embedded default runs anywhere."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.env import EnvError, env_bool, env_float, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'multitude.settings'; "
    "django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE']); "
    "print(s.CHANNEL_LAYERS['default']['BACKEND']); print(s.DEBUG); print(s.ALLOWED_HOSTS)"
)
CONFIG_NAMES = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "TESTING",
    "HISTORY_SIGNING_KEY",
    "EMAIL_URL",
    "EMAIL_HOST",
    "TASKS_BACKEND",
)
# An Ed25519 seed, base64 (manage.py history_key prints one).
SIGNING_KEY = "A4qk1H0cJ2gXn7yV3mQ9sT6wZ8bR5dK1fP0uL2eN4iE="
MAIL = "smtp+tls://mailer:secret@mail.example.org"
# Set for the browser tests in this process; a real deployment never has it.
TEST_ONLY_NAMES = ("DJANGO_ALLOW_ASYNC_UNSAFE",)


def run(code_or_args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_NAMES + TEST_ONLY_NAMES}
    env.update(env_overrides)
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_it_uses_sqlite_and_the_in_memory_layer_when_nothing_is_set():
    lines = run(PROBE).stdout.splitlines()
    assert lines[0] == "django.db.backends.sqlite3"
    assert lines[1] == "channels.layers.InMemoryChannelLayer"
    assert lines[2] == "False"


def test_it_reads_the_servers_from_the_environment():
    result = run(
        PROBE,
        DATABASE_URL="postgres://someone@db.example:5432/assembly",
        REDIS_URL="redis://cache.example:6379/0",
        DEBUG="1",
        ALLOWED_HOSTS="ga.example.org,www.ga.example.org",
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "django.db.backends.postgresql"
    assert lines[1] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert lines[2] == "True"
    assert lines[3] == "['ga.example.org', 'www.ga.example.org']"


def test_it_passes_the_deployment_check_in_production_shape():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY="k3y-" + "x7Qp2vL9sT4wZ8mN1bR6cY3hJ5gF0dK" * 2,
        ALLOWED_HOSTS="ga.example.org",
        HISTORY_SIGNING_KEY=SIGNING_KEY,
        EMAIL_URL=MAIL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_warns_a_deployment_without_a_history_signing_key():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY="k3y-" + "x7Qp2vL9sT4wZ8mN1bR6cY3hJ5gF0dK" * 2,
        ALLOWED_HOSTS="ga.example.org",
        EMAIL_URL=MAIL,
    )
    assert result.returncode != 0
    assert "proposals.W001" in result.stdout + result.stderr
    assert "HISTORY_SIGNING_KEY" in result.stdout + result.stderr


def test_the_deployment_check_asks_for_real_email_in_production():
    """Unset, mail is printed to the terminal: Django's check says that is not production."""
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY="k3y-" + "x7Qp2vL9sT4wZ8mN1bR6cY3hJ5gF0dK" * 2,
        ALLOWED_HOSTS="ga.example.org",
        HISTORY_SIGNING_KEY=SIGNING_KEY,
    )
    assert result.returncode != 0
    assert "mail.E001" in result.stdout + result.stderr


def test_it_fails_the_deployment_check_with_the_development_key():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr


def test_it_hashes_passwords_with_argon2():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'multitude.settings'; "
        "django.setup(); from django.contrib.auth.hashers import make_password; "
        "print(make_password('correct horse battery staple').split('$')[0])"
    )
    assert run(code).stdout.strip() == "argon2"


def test_it_sets_secure_cookies_hsts_and_a_content_security_policy_in_production():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'multitude.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_SSL_REDIRECT, sorted(s.SECURE_CSP))"
    )
    output = run(code, DEBUG="0", SECRET_KEY="k3y-" + "x7Qp2vL9sT4wZ8mN1bR6cY3hJ5gF0dK" * 2)
    secure, csrf_secure, hsts, redirect, csp = output.stdout.strip().split(" ", 4)
    assert (secure, csrf_secure, redirect) == ("True", "True", "True")
    assert int(hsts) >= 31536000
    assert "script-src" in csp and "default-src" in csp


# --- the environment helpers (core/env.py) ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True), ("true", True), ("TRUE", True), (" Yes ", True), ("on", True),
        ("0", False), ("false", False), ("False", False), ("no", False), (" OFF", False),
    ],
)  # fmt: skip
def test_env_bool_reads_the_accepted_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("MULTITUDE_TEST_FLAG", raw)
    assert env_bool("MULTITUDE_TEST_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_env_bool_unset_or_empty_is_the_default(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("MULTITUDE_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("MULTITUDE_TEST_FLAG", raw)
    assert env_bool("MULTITUDE_TEST_FLAG", True) is True
    assert env_bool("MULTITUDE_TEST_FLAG", False) is False


@pytest.mark.parametrize("raw", ["ture", "yse", "2", "enabled", "y", "-1"])
def test_env_bool_refuses_a_typo_naming_the_variable_the_value_and_the_spellings(monkeypatch, raw):
    monkeypatch.setenv("MULTITUDE_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_bool("MULTITUDE_TEST_FLAG", False)
    message = str(refused.value)
    assert f"MULTITUDE_TEST_FLAG={raw!r}" in message
    assert "1/0, true/false, yes/no or on/off" in message
    assert "default (False)" in message


def test_env_int_reads_whole_numbers_and_defaults_when_empty(monkeypatch):
    monkeypatch.setenv("MULTITUDE_TEST_INT", " 42 ")
    assert env_int("MULTITUDE_TEST_INT", 7) == 42
    monkeypatch.setenv("MULTITUDE_TEST_INT", "-3")
    assert env_int("MULTITUDE_TEST_INT", 7) == -3
    monkeypatch.setenv("MULTITUDE_TEST_INT", "")
    assert env_int("MULTITUDE_TEST_INT", 7, minimum=10) == 7  # the default is not checked
    monkeypatch.delenv("MULTITUDE_TEST_INT")
    assert env_int("MULTITUDE_TEST_INT", 7) == 7


@pytest.mark.parametrize("raw", ["sixty", "1.5", "64s", "0x40", "1e3"])
def test_env_int_refuses_what_is_not_an_integer(monkeypatch, raw):
    monkeypatch.setenv("MULTITUDE_TEST_INT", raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_int("MULTITUDE_TEST_INT", 64, minimum=1)
    message = str(refused.value)
    assert f"MULTITUDE_TEST_INT={raw!r} is not an integer" in message
    assert "an integer of at least 1" in message and "default (64)" in message


def test_env_int_keeps_to_its_bounds_inclusive(monkeypatch):
    monkeypatch.setenv("MULTITUDE_TEST_INT", "1")
    assert env_int("MULTITUDE_TEST_INT", 5, minimum=1, maximum=10) == 1
    monkeypatch.setenv("MULTITUDE_TEST_INT", "10")
    assert env_int("MULTITUDE_TEST_INT", 5, minimum=1, maximum=10) == 10
    for raw in ("0", "11"):
        monkeypatch.setenv("MULTITUDE_TEST_INT", raw)
        with pytest.raises(ImproperlyConfigured, match="an integer from 1 to 10") as refused:
            env_int("MULTITUDE_TEST_INT", 5, minimum=1, maximum=10)
        assert f"MULTITUDE_TEST_INT={raw!r} is out of range" in str(refused.value)
    monkeypatch.setenv("MULTITUDE_TEST_INT", "100")
    with pytest.raises(ImproperlyConfigured, match="an integer of at most 99"):
        env_int("MULTITUDE_TEST_INT", 5, maximum=99)


def test_env_float_reads_numbers_and_defaults_when_empty(monkeypatch):
    monkeypatch.setenv("MULTITUDE_TEST_FLOAT", "0.25")
    assert env_float("MULTITUDE_TEST_FLOAT", 1.0) == 0.25
    monkeypatch.setenv("MULTITUDE_TEST_FLOAT", " 10 ")
    assert env_float("MULTITUDE_TEST_FLOAT", 1.0) == 10.0
    monkeypatch.setenv("MULTITUDE_TEST_FLOAT", "1e3")
    assert env_float("MULTITUDE_TEST_FLOAT", 1.0) == 1000.0
    monkeypatch.setenv("MULTITUDE_TEST_FLOAT", "")
    assert env_float("MULTITUDE_TEST_FLOAT", 1.5) == 1.5
    monkeypatch.delenv("MULTITUDE_TEST_FLOAT")
    assert env_float("MULTITUDE_TEST_FLOAT", 1.5) == 1.5


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("fast", "is not a number"), ("0,5", "is not a number"), ("1s", "is not a number"),
     ("nan", "is not a finite number"), ("inf", "is not a finite number")],
)  # fmt: skip
def test_env_float_refuses_what_is_not_a_finite_number(monkeypatch, raw, problem):
    monkeypatch.setenv("MULTITUDE_TEST_FLOAT", raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_float("MULTITUDE_TEST_FLOAT", 0.1, minimum=0.01)
    message = str(refused.value)
    assert f"MULTITUDE_TEST_FLOAT={raw!r} {problem}" in message
    assert "a number of at least 0.01" in message and "default (0.1)" in message


def test_env_float_keeps_to_its_bounds_inclusive(monkeypatch):
    monkeypatch.setenv("MULTITUDE_TEST_FLOAT", "0.01")
    assert env_float("MULTITUDE_TEST_FLOAT", 0.1, minimum=0.01, maximum=5) == 0.01
    monkeypatch.setenv("MULTITUDE_TEST_FLOAT", "5")
    assert env_float("MULTITUDE_TEST_FLOAT", 0.1, minimum=0.01, maximum=5) == 5.0
    for raw in ("0", "-1", "5.5"):
        monkeypatch.setenv("MULTITUDE_TEST_FLOAT", raw)
        with pytest.raises(ImproperlyConfigured) as refused:
            env_float("MULTITUDE_TEST_FLOAT", 0.1, minimum=0.01, maximum=5)
        assert f"MULTITUDE_TEST_FLOAT={raw!r} is out of range" in str(refused.value)
        assert "a number from 0.01 to 5" in str(refused.value)


def test_env_list_splits_on_commas_and_defaults_when_empty(monkeypatch):
    monkeypatch.setenv("MULTITUDE_TEST_LIST", " a.example , ,b.example,")
    assert env_list("MULTITUDE_TEST_LIST", ["x"]) == ["a.example", "b.example"]
    monkeypatch.setenv("MULTITUDE_TEST_LIST", "  ")
    assert env_list("MULTITUDE_TEST_LIST", ["x"]) == ["x"]


def test_the_refusal_is_django_improperly_configured():
    assert issubclass(EnvError, ImproperlyConfigured)


@pytest.mark.parametrize(
    ("name", "raw", "accepted"),
    [
        ("DEBUG", "ture", "use 1/0, true/false, yes/no or on/off"),
        ("REDIS_POOL_SIZE", "lots", "give an integer of at least 1"),
        ("LIVE_PUBLISH_INTERVAL", "0", "give a number of at least 0.01"),
    ],
)
def test_a_malformed_setting_stops_start_up_with_a_clear_message(name, raw, accepted):
    result = run(PROBE, **{name: raw})
    assert result.returncode != 0
    assert "core.env.EnvError" in result.stderr
    assert f"{name}={raw!r}" in result.stderr and accepted in result.stderr, result.stderr


def test_manage_py_check_refuses_a_typo_in_debug():
    result = run(["manage.py", "check"], DEBUG="ture")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("core.env.EnvError: DEBUG='ture' is not a boolean"), last_line
    assert "1/0, true/false, yes/no or on/off" in last_line
