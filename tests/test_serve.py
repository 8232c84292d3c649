"""`gongzhi serve` as an operator runs it: web server and task worker up together, down
together, and nothing left running afterwards."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import child_env, gongzhi


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (children of children included)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    still = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            still.add(pid)
    return still


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A migrated SQLite database, as `make demo` leaves one."""
    path = tmp_path_factory.mktemp("serve")
    result = gongzhi("migrate", "--no-input", env=child_env(path))
    assert result.returncode == 0, result.stderr
    return path


@dataclass
class Server:
    process: subprocess.Popen
    health_url: str


@pytest.fixture
def server(data_dir):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gongzhi.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=child_env(data_dir, WEB_CONCURRENCY="2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/healthz"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    assert wait_until(answers, timeout=60), "gongzhi serve did not answer within 60 s"
    yield Server(process, url)
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serve_answers_and_runs_a_worker_beside_the_web_server(server):
    process = server.process

    with urllib.request.urlopen(server.health_url, timeout=5) as response:
        body = json.loads(response.read())
        server_header = response.headers["Server"]
    commands = {
        Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        for pid in descendants(process.pid)
    }

    assert body == {"status": "ok", "database": "ok"}
    assert server_header.startswith("gunicorn")
    assert any("gongzhi.cli worker" in command for command in commands)


def test_sigterm_stops_the_web_server_and_the_worker(server):
    process = server.process
    children = descendants(process.pid)
    assert len(children) >= 3  # gunicorn master, its web workers, the task worker

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 0, output
    assert "gongzhi stopped." in output
    assert wait_until(lambda: not alive(children), timeout=10), alive(children)


def test_when_the_worker_dies_the_web_server_is_stopped_too(server):
    process = server.process
    children = descendants(process.pid)
    worker = next(
        pid
        for pid in children
        if b"gongzhi.cli\0worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    )

    os.kill(worker, signal.SIGKILL)
    output, _ = process.communicate(timeout=60)

    assert process.returncode != 0
    assert "The worker process exited" in output
    assert wait_until(lambda: not alive(children), timeout=10), alive(children)


def test_killing_serve_itself_leaves_no_orphans(server):
    process = server.process
    children = descendants(process.pid)

    process.kill()
    process.wait()

    assert wait_until(lambda: not alive(children), timeout=30), alive(children)
