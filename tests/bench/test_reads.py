"""bench/reads.py on a tiny city: every page answers as the user who opens it, is timed and
has its queries counted, and the comparison lines come out (figures are never asserted).
Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

import argparse
import json

import pytest
from bench.dataset import generate

from bench import reads

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = {
    "healthz",
    "worker_inbox",
    "worker_inbox_api",
    "community_list",
    "community_list_api",
    "subdistrict_list",
    "subdistrict_list_api",
    "subdistrict_all_api",
    "community_board",
    "area_table",
}


def test_every_page_is_timed_and_counted_and_compared(capsys):
    generate(communities=2, cases=300)
    options = argparse.Namespace(warmup=1, requests=2, explain="")
    context = {"bench": "reads", "size": "large", "vendor": "test", "cases": 300}
    reads._measure(reads._pages(), options, context)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    figures = {(f["page"], f["figure"]): f for f in lines}
    assert {page for page, _figure in figures} == PAGES
    assert all((page, figure) in figures for page in PAGES for figure in ("p50", "p95"))
    assert all(figures[(page, "queries")]["value"] > 0 for page in PAGES)

    # The small run's figures are the same shape; compare the run with itself.
    small = [line | {"size": "small", "cases": 30} for line in lines]
    reads._compare({"small": small, "large": lines})
    ratios = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["page"] for r in ratios} == PAGES - {"healthz"}
    assert all(r["queries_constant"] and r["vs_small"] == 1 for r in ratios)
