"""Settings come from the environment; unset, the embedded default runs anywhere."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'multitude.settings'; "
    "django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE']); "
    "print(s.CHANNEL_LAYERS['default']['BACKEND']); print(s.DEBUG); print(s.ALLOWED_HOSTS)"
)
CONFIG_NAMES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "TESTING")
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
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


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
