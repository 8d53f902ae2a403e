"""What a worker process loads: it serves no request, so neither the API's OpenAPI machinery
nor (on SQLite) psycopg, some 27 MB of every worker's memory (jobcenter/api/apps.py, and
``requires_system_checks`` of the db_worker command: the checks load the URLconf)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import django
from django.core.management import call_command, execute_from_command_line

django.setup()
call_command("migrate", verbosity=0)
before = "psycopg" in sys.modules or "drf_spectacular.plumbing" in sys.modules
execute_from_command_line(["manage.py", "db_worker", "--batch", "--no-startup-delay"])
print(sorted(m for m in ("psycopg", "drf_spectacular.plumbing", "rest_framework.fields")
             if m in sys.modules), before)
"""


def test_a_worker_on_sqlite_loads_no_openapi_machinery_nor_psycopg(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "JOBCENTER_TEST_DB": "sqlite",
        "JOBCENTER_GRAPH_STORE": "sqlite",
        "JOBCENTER_DATA_DIR": str(tmp_path),
    }
    env.pop("JOBCENTER_TEST_PG_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[] False", done.stdout
