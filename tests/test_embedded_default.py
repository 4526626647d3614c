"""The embedded default (SQLite, in-memory channel layer) that `make run` uses really works:
migrate, seed the demo, render the pages and build a live snapshot."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import django, json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "multitude.settings"
django.setup()
from django.test import Client
from assemblies.models import Assembly
from sittings import live
assembly = Assembly.objects.get(slug="demo")
client = Client(HTTP_HOST="localhost")
for url in ["/", "/a/demo/", "/a/demo/projector/", "/a/demo/log/", "/api/v1/assemblies/demo/"]:
    assert client.get(url).status_code == 200, url
for proposal in assembly.proposals.all():
    assert client.get(proposal.get_absolute_url()).status_code == 200
snapshot = live.build_snapshot(assembly.pk, 1)
print(json.dumps({"proposals": len(snapshot["proposals"]), "meeting": bool(snapshot["meeting"])}))
"""


def run(args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_it_runs_the_demo_on_sqlite(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", DEBUG="1")
    for args in (["manage.py", "migrate", "-v0"], ["manage.py", "seed_demo", "--quiet"]):
        result = run(args, env)
        assert result.returncode == 0, result.stderr
    result = run(["-c", SCRIPT], env)
    assert result.returncode == 0, result.stderr
    assert '"meeting": true' in result.stdout
    assert '"proposals": 6' in result.stdout
