"""Running gongzhi in a child process, as an operator would, for tests of settings and
commands that only show at start-up (settings modules are read once per process)."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def child_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a fresh machine: SQLite in `data_dir`, no test settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG"}
    }
    env["GONGZHI_DATA_DIR"] = str(data_dir)
    env.update(overrides)
    return env


def gongzhi(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs `gongzhi <args>` and returns what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "gongzhi.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def worker_running(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`gongzhi worker` in a child process, its output in `log`; stopped on leaving as
    an operator stops it (SIGTERM), killed if it does not stop within 20 s."""
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "gongzhi.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
