"""The intake benches do not rot: tiny runs, their figures checked for shape only (the
figures themselves are in docs/performance.md, never asserted)."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _figures(stdout: str) -> dict[str, dict]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return {line["figure"]: line for line in lines if "figure" in line}


def test_intake_peer_reports_through_the_api_in_process():
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "intake_peer.py"),
            "--n",
            "10",
            "--residents",
            "3",
            "--no-peer",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = _figures(done.stdout)
    ours = figures["gongzhi_api_reports_per_second"]
    assert ours["cases"] == 10 + 5  # five warm-up reports, then the measured ones
    assert ours["value"] > 0 and ours["unit"] == "reports/s"
    receipts = figures["gongzhi_api_receipts_end_to_end_per_second"]
    # as many again through receipts, every one filed as a case
    assert receipts["filed"] == 10 + 5 and receipts["cases"] == 2 * (10 + 5)
    assert receipts["accepted_per_second"] > receipts["value"] > 0


def test_the_wrk_script_gives_each_request_a_token_a_home_and_its_own_key():
    sys.path.insert(0, str(BENCH))
    from intake_http import _lua

    script = _lua([("gz_token_a", "HQXC-E1-B1-U1-101"), ("gz_token_b", "HQXC-E1-B1-U1-102")])
    assert '"gz_token_a"' in script and '"gz_token_b"' in script
    assert '"place": "HQXC-E1-B1-U1-102"' in script
    assert '["Idempotency-Key"] = tag .. "-" .. id .. "-" .. counter' in script
    # the receipts' target sends the preference wrk is given after the tag
    assert 'headers["Prefer"] = prefer' in script and "prefer = args[2]" in script
