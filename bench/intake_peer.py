"""Intake against the peer: cases reported one by one through the API in-process versus
django-helpdesk's ticket creation through its API, in the same run.

    .venv/bin/python bench/intake_peer.py [--n 2000] [--database-url URL] [--no-peer]

gongzhi: a throwaway database (a new SQLite file, or the PostgreSQL database
`--database-url` names, created empty and dropped afterwards) with the production settings
and the staffed community of `bench/intake_http.py`; `--n` reports are sent one by one
through `django.test.Client` as `POST /api/v1/cases` — bearer token of a resident, a report
about their home, an Idempotency-Key each — the whole stack from the middleware to the
JSON answer, as django-helpdesk's `create api` step does with DRF.

django-helpdesk: `../shared/peers/helpdesk_bench.sh` (it builds django-helpdesk 2.6 from
PyPI in a temporary folder, on SQLite only) with CREATE_N=`--n` and small other steps;
its `create api` figure is read from its results.jsonl. Nothing of it stays behind.

Prints one JSON line per side (reports/s, median and p95 ms) and the ratio.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import (
    BENCH,
    REPO,
    emit,
    fresh_database,
    prepare_community,
    production_environment,
    vendor_of,
)

PEER_SCRIPT = REPO.parent / "shared" / "peers" / "helpdesk_bench.sh"
RATIO_TARGET = 5.0
WARM_UP = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="reports (and peer tickets)")
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL database for gongzhi to create, use and drop (default: SQLite)",
    )
    parser.add_argument("--residents", type=int, default=200, help="reporting accounts")
    parser.add_argument("--no-peer", action="store_true", help="measure gongzhi only")
    parser.add_argument(
        "--peer-script", default=str(PEER_SCRIPT), help="django-helpdesk's bench script"
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="gongzhi-peer-"))
    try:
        ours = _gongzhi(args, workdir)
        context = {"bench": "intake_peer", "n": args.n}
        emit(**context, figure="gongzhi_api_reports_per_second", **ours)
        if args.no_peer:
            return 0
        peer = _helpdesk(args, workdir / "helpdesk")
        emit(**context, figure="helpdesk_api_tickets_per_second", **peer)
        ratio = round(ours["value"] / peer["value"], 2)
        emit(
            **context,
            figure="gongzhi_vs_helpdesk_api_create",
            value=ratio,
            unit="ratio",
            vendor=ours["vendor"],
            peer_vendor="sqlite",
            target=RATIO_TARGET,
            met=ratio >= RATIO_TARGET,
        )
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _gongzhi(args, workdir: Path) -> dict:
    """N reports one by one through the test client; per-request times."""
    database_url, drop = fresh_database(args.database_url, workdir)
    os.environ.update(production_environment(workdir, database_url))
    sys.path[:0] = [str(REPO / "src"), str(BENCH)]

    import django

    django.setup()
    from django.db import connections
    from django.test import Client

    from intake_http import REPORTS

    tokens = prepare_community(args.residents, staffed=True)
    client = Client()

    def report(i: int) -> None:
        token, place = tokens[i % len(tokens)]
        category, text, answers = REPORTS[i % len(REPORTS)]
        body = {"category": category, "place": place, "text": text, "answers": answers}
        response = client.post(
            "/api/v1/cases",
            data=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY=f"peer-{i}",
        )
        if response.status_code != 201:
            raise SystemExit(f"report {i}: {response.status_code} {response.content[:300]!r}")

    times = []
    try:
        # the first report loads the search-token dictionary and the URL patterns
        for i in range(WARM_UP):
            report(-1 - i)
        load_before = os.getloadavg()
        began = time.perf_counter()
        for i in range(args.n):
            start = time.perf_counter()
            report(i)
            times.append(time.perf_counter() - start)
        seconds = time.perf_counter() - began
        from gongzhi.cases.models import Case

        cases = Case.objects.count()
    finally:
        connections.close_all()
        if drop:
            drop()
    times.sort()
    return {
        "value": round(args.n / seconds, 1),
        "unit": "reports/s",
        "vendor": vendor_of(database_url),
        "ms_median": round(statistics.median(times) * 1000, 1),
        "ms_p95": round(times[int(len(times) * 0.95) - 1] * 1000, 1),
        "cases": cases,
        "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }


def _helpdesk(args, workdir: Path) -> dict:
    """django-helpdesk's own harness with CREATE_N = n; its `create api` line."""
    workdir.mkdir(parents=True)
    env = {
        **os.environ,
        "N": str(args.n),
        "CREATE_N": str(args.n),
        "REPEAT": "1",
        "API_REPEAT": "1",
        "ESC_DUE": "100",
    }
    # not the gongzhi settings: the harness runs its own Django site
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTHONPATH"):
        env.pop(name, None)
    load_before = os.getloadavg()
    subprocess.run(
        ["bash", args.peer_script, str(workdir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "harness.log").open("w"),
        check=True,
    )
    rows = [
        json.loads(line)
        for line in (workdir / "results.jsonl").read_text().splitlines()
        if line.startswith("{")
    ]
    api = next(row for row in rows if row.get("via") == "api")
    return {
        "value": api["tickets_per_s"],
        "unit": "tickets/s",
        "vendor": "sqlite",
        "ms_median": api["ms_median"],
        "ms_p95": api["ms_p95"],
        "tickets": api["tickets_after"] - api["tickets_before"],
        "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }


if __name__ == "__main__":
    sys.exit(main())
