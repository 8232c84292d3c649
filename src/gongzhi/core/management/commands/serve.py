"""`gongzhi serve`: the production web server and the task worker, started and stopped together.

Both run as child processes of this command. Ctrl-C or SIGTERM is forwarded to both as
one SIGTERM, so each shuts down gracefully; if either child dies, the other is stopped
too and the command exits non-zero, so a supervisor (systemd, a container runtime)
restarts the pair instead of leaving a web server without its worker.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# How long a child may take to finish its requests or its current task after SIGTERM.
STOP_TIMEOUT_SECONDS = 30
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook that makes Linux send SIGTERM to the child if this process dies,
    even by SIGKILL, so no orphaned server keeps the port or a worker keeps running."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


class Command(BaseCommand):
    help = "Runs the web server (gunicorn) and the task worker; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default=os.environ.get("GONGZHI_BIND", "127.0.0.1:8000"),
            help="host:port to listen on (default: $GONGZHI_BIND or 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="web worker processes (default: $WEB_CONCURRENCY or 2 × CPUs + 1, at most 8)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="run only the web server (the task worker runs elsewhere)",
        )

    def handle(self, *, bind: str, workers: int | None, no_worker: bool, **options):
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:gongzhi.config.gunicorn",
            "--bind",
            bind,
            *(["--workers", str(workers)] if workers else []),
            "gongzhi.config.wsgi:application",
        ]
        commands = {"web": web}
        if not no_worker:
            commands["worker"] = [sys.executable, "-m", "gongzhi.cli", "worker"]

        stop_requested: list[int] = []

        def request_stop(signum, frame):
            stop_requested.append(signum)

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        children: dict[str, subprocess.Popen] = {}
        for name, argv in commands.items():
            # A session of their own: Ctrl-C in the terminal reaches only this process,
            # which then sends each child exactly one SIGTERM.
            children[name] = subprocess.Popen(
                argv, start_new_session=True, preexec_fn=_die_with_parent()
            )

        backend = "rq" if settings.TASK_BACKEND == "rq" else "database"
        self.stdout.write(
            f"gongzhi is serving http://{bind}/"
            + ("" if no_worker else f" with a task worker ({backend} queue)")
            + " — press Ctrl-C to stop."
        )

        failed: str | None = None
        while not stop_requested and failed is None:
            for name, child in children.items():
                if child.poll() is not None:
                    failed = name
                    break
            time.sleep(0.2)

        for child in children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

        if failed is not None:
            raise CommandError(
                f"The {failed} process exited with code {children[failed].returncode};"
                " stopped the others."
            )
        self.stdout.write("gongzhi stopped.")
