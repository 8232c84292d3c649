"""No lost or doubled reports: bench/crash_intake.py with 300 reports and two SIGKILLs of
the real server (the full 10,000 are run by hand; docs/security.md has the figures)."""

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BENCH = Path(__file__).resolve().parents[2] / "bench" / "crash_intake.py"


def test_300_reports_through_two_kills_arrive_exactly_once_with_their_timelines():
    database = settings.DATABASES["default"]
    argv = [sys.executable, str(BENCH), "--n", "300", "--kills", "2", "--backups", "2"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        # the CI's PostgreSQL run: a throwaway database on the same server
        argv += [
            "--postgres",
            f"postgres://{database['USER']}:{database['PASSWORD']}@"
            f"{database['HOST'] or 'localhost'}:{database['PORT'] or 5432}",
        ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)

    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr[-2000:]
    result = lines[-1]
    assert result["phase"] == "result", done.stderr[-2000:]
    assert [line["kill"] for line in lines if line["phase"] == "kill"] == [1, 2]
    assert result["failed_attempts"] > 0  # the kills did cut requests off
    assert result["cases"] == 300
    assert result["missing"] == result["duplicates"] == result["unanswered"] == 0
    assert result["answered_wrong_case"] == 0
    assert result["timelines_intact"] and result["numbers_distinct"] and result["audit_intact"]
    assert result["backups_verified"] == "2/2"
    assert result["ok"] and done.returncode == 0
