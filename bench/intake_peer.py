"""Intake against the peer: cases reported one by one through the API in-process versus
django-helpdesk's ticket creation through its API, in the same run.

    .venv/bin/python bench/intake_peer.py [--n 2000] [--database-url URL] [--no-peer]

gongzhi: a throwaway database (a new SQLite file, or the PostgreSQL database
`--database-url` names, created empty and dropped afterwards) with the production settings
and the staffed community of `bench/intake_http.py`; `--n` reports are sent one by one
through `django.test.Client` as `POST /api/v1/cases` — bearer token of a resident, a report
about their home, an Idempotency-Key each — the whole stack from the middleware to the
JSON answer, as django-helpdesk's `create api` step does with DRF. Then the same number
again with `Prefer: respond-async`: each answered with a receipt (202), and afterwards
filed as cases by `report_receipts_file` as the worker's watcher does; its end-to-end rate
counts both the requests and the filing.

django-helpdesk: `../shared/peers/helpdesk_bench.sh` (it builds django-helpdesk 2.6 from
PyPI in a temporary folder, on SQLite only) with CREATE_N=`--n` and small other steps;
its `create api` figure is read from its results.jsonl. Nothing of it stays behind.

Prints one JSON line per side (reports/s, median and p95 ms) and the ratios: cases made
while the request waits, and cases made through receipts (requests plus filing).
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
        ours, receipts = _gongzhi(args, workdir)
        context = {"bench": "intake_peer", "n": args.n}
        emit(**context, figure="gongzhi_api_reports_per_second", **ours)
        emit(**context, figure="gongzhi_api_receipts_end_to_end_per_second", **receipts)
        if args.no_peer:
            return 0
        peer = _helpdesk(args, workdir / "helpdesk")
        emit(**context, figure="helpdesk_api_tickets_per_second", **peer)
        for figure, side in (
            ("gongzhi_vs_helpdesk_api_create", ours),
            ("gongzhi_receipts_vs_helpdesk_api_create", receipts),
        ):
            ratio = round(side["value"] / peer["value"], 2)
            emit(
                **context,
                figure=figure,
                value=ratio,
                unit="ratio",
                vendor=side["vendor"],
                peer_vendor="sqlite",
                target=RATIO_TARGET,
                met=ratio >= RATIO_TARGET,
            )
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _gongzhi(args, workdir: Path) -> tuple[dict, dict]:
    """N reports one by one through the test client, then N more through receipts and
    filed; per-request times."""
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

    def report(i: int, prefer: str = "") -> None:
        token, place = tokens[i % len(tokens)]
        category, text, answers = REPORTS[i % len(REPORTS)]
        body = {"category": category, "place": place, "text": text, "answers": answers}
        response = client.post(
            "/api/v1/cases",
            data=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY=f"peer-{prefer}-{i}",
            **({"HTTP_PREFER": prefer} if prefer else {}),
        )
        if response.status_code != (202 if prefer else 201):
            raise SystemExit(f"report {i}: {response.status_code} {response.content[:300]!r}")

    def timed(prefer: str) -> tuple[list[float], float, tuple]:
        times = []
        load_before = os.getloadavg()
        began = time.perf_counter()
        for i in range(args.n):
            start = time.perf_counter()
            report(i, prefer)
            times.append(time.perf_counter() - start)
        return times, time.perf_counter() - began, load_before

    try:
        from gongzhi.cases.models import Case, ReceiptState, ReportReceipt
        from gongzhi.cases.services import report_receipts_file

        # the first report loads the search-token dictionary and the URL patterns
        for i in range(WARM_UP):
            report(-1 - i)
        times, seconds, load_before = timed("")
        cases = Case.objects.count()
        ours = _rate(args.n, times, seconds, load_before, vendor_of(database_url))
        ours["cases"] = cases

        for i in range(WARM_UP):
            report(-1 - i, "respond-async")
        while sum(report_receipts_file(limit=100).values()):
            pass
        times, accepting, load_before = timed("respond-async")
        began = time.perf_counter()
        while sum(report_receipts_file(limit=100).values()):
            pass
        filing = time.perf_counter() - began
        receipts = _rate(args.n, times, accepting + filing, load_before, vendor_of(database_url))
        receipts.update(
            accepted_per_second=round(args.n / accepting, 1),
            filed_per_second=round(args.n / filing, 1),
            filed=ReportReceipt.objects.filter(state=ReceiptState.FILED).count(),
            cases=Case.objects.count(),
        )
    finally:
        connections.close_all()
        if drop:
            drop()
    return ours, receipts


def _rate(n: int, times: list[float], seconds: float, load_before: tuple, vendor: str) -> dict:
    times = sorted(times)
    return {
        "value": round(n / seconds, 1),
        "unit": "reports/s",
        "vendor": vendor,
        "ms_median": round(statistics.median(times) * 1000, 1),
        "ms_p95": round(times[int(len(times) * 0.95) - 1] * 1000, 1),
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
