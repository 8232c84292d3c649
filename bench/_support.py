"""What the server benches share: a throwaway database, the production environment, a
community whose residents hold API tokens, and gunicorn started as `gongzhi serve` starts it.

Imported by `bench/crash_intake.py`, `bench/intake_http.py` and `bench/intake_peer.py`
(which put this folder on `sys.path` by being run from it). Nothing here is used by the
application.
"""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"


def emit(**line) -> None:
    """One figure or phase as one JSON line on stdout."""
    print(json.dumps(line, ensure_ascii=False), flush=True)


# --- databases ----------------------------------------------------------------------------


def throwaway_database(
    server_url: str, workdir: Path, *, prefix: str = "gz_crash_"
) -> tuple[str, Callable[[], None] | None]:
    """A new SQLite file in `workdir`, or with a PostgreSQL server URL (no database) a new
    database named `prefix` + random on it; returns its URL and how to drop it."""
    if not server_url:
        return f"sqlite:///{workdir / 'gongzhi.sqlite3'}", None
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    return _postgres_fresh(urlsplit(server_url)._replace(path=f"/{name}").geturl())


def fresh_database(database_url: str, workdir: Path) -> tuple[str, Callable[[], None] | None]:
    """The `--database-url` of a bench: empty means a new SQLite file in `workdir`; a
    PostgreSQL URL names a throwaway database, created empty (dropped first if it exists)
    and dropped again by the returned function."""
    if not database_url:
        return f"sqlite:///{workdir / 'gongzhi.sqlite3'}", None
    if database_url.startswith("sqlite"):
        return database_url, None
    return _postgres_fresh(database_url)


def _postgres_fresh(url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("the PostgreSQL URL must name a database, e.g. …:5432/bench_x")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def vendor_of(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgres") else "sqlite"


# --- the environment ----------------------------------------------------------------------


def production_environment(
    workdir: Path,
    database_url: str,
    *,
    settings: str = "gongzhi.config.settings.production",
    log_level: str = "WARNING",
    extra_path: tuple[Path, ...] = (),
) -> dict[str, str]:
    """The variables a production box sets, on a throwaway data folder and database."""
    return {
        "DJANGO_SETTINGS_MODULE": settings,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "GONGZHI_HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "GONGZHI_DATA_DIR": str(workdir),
        "DATABASE_URL": database_url,
        # The benches flood the report endpoint on purpose; the limit itself is tested
        # in tests/reliability/test_rate_limits.py.
        "GONGZHI_REPORT_RATE_LIMIT": "1000000000,60",
        "LOG_LEVEL": log_level,
        # The server's children import this checkout, whatever the virtualenv points at.
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), *map(str, extra_path)]),
    }


# --- a community to report in -------------------------------------------------------------


def prepare_community(residents: int, *, staffed: bool = False) -> list[tuple[str, str]]:
    """Migrate, then a community with one dwelling and one API token per resident;
    returns (token, dwelling code) per resident.

    `staffed` adds what a real community has, so reports route as they would there: a
    grid over the buildings with its grid worker, the property manager of the estate and
    a mediator; the residents' dwellings are spread over two buildings of two entrances.
    """
    from django.core.management import call_command

    from gongzhi.accounts.models import Role
    from gongzhi.accounts.services import role_assign, user_create
    from gongzhi.api.services import api_token_create
    from gongzhi.places.models import PlaceKind
    from gongzhi.places.services import grid_create, place_create

    call_command("migrate", verbosity=0)

    def add(kind, name, segment, parent=None):
        return place_create(actor=None, kind=kind, name=name, segment=segment, parent=parent)

    def staff(username, name, phone, role, place=None, grid=None):
        user = user_create(actor=None, username=username, name=name, phone=phone)
        role_assign(actor=None, user=user, role=role, place=place, grid=grid)

    district = add(PlaceKind.DISTRICT, "长宁区", "310105")
    subdistrict = add(PlaceKind.SUBDISTRICT, "周家桥街道", "ZJQ", district)
    community = add(PlaceKind.COMMUNITY, "虹桥新城居民区", "HQXC", subdistrict)
    estate = add(PlaceKind.ESTATE, "虹桥新城小区", "E1", community)
    building = add(PlaceKind.BUILDING, "1号楼", "B1", estate)
    entrances = [add(PlaceKind.ENTRANCE, "1单元", "U1", building)]
    staff("worker", "网格员", "13800000001", Role.COMMUNITY_WORKER, place=community)
    if staffed:
        entrances.append(add(PlaceKind.ENTRANCE, "2单元", "U2", building))
        second = add(PlaceKind.BUILDING, "2号楼", "B2", estate)
        entrances += [add(PlaceKind.ENTRANCE, f"{u}单元", f"U{u}", second) for u in (1, 2)]
        grid = grid_create(
            actor=None,
            community=community,
            segment="G1",
            name="第一网格",
            buildings=[building, second],
        )
        staff("grid1", "王网格", "13800000002", Role.GRID_WORKER, grid=grid)
        staff("pm1", "李物业", "13800000003", Role.PROPERTY_MANAGER, place=estate)
        staff("mediator1", "赵调解", "13800000004", Role.MEDIATOR, place=community)
    tokens = []
    for r in range(residents):
        entrance = entrances[r % len(entrances)]
        if staffed:
            floor, door = divmod(r // len(entrances), 4)
            segment = f"{floor + 1}{door + 1:02d}"
        else:
            segment = str(101 + r)
        dwelling = add(PlaceKind.DWELLING, f"{segment}室", segment, entrance)
        user = user_create(
            actor=None, username=f"resident{r}", name=f"居民{r}", phone=f"139{r:08d}"
        )
        role_assign(actor=None, user=user, role=Role.RESIDENT, place=dwelling)
        _token, raw = api_token_create(actor=None, user=user, name="bench")
        tokens.append((raw, dwelling.code))
    return tokens


# --- the server ---------------------------------------------------------------------------


class Server:
    """gunicorn as `gongzhi serve` starts it (`gongzhi.config.gunicorn`: gthread workers,
    JSON logs), in a process group of its own so one SIGKILL takes the master and every
    worker at once. `workers` None keeps the configuration's own number."""

    def __init__(self, *, env: dict[str, str], workers: int | None, log: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        began = time.monotonic()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:gongzhi.config.gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            *(["--workers", str(self.workers)] if self.workers else []),
            "gongzhi.config.wsgi:application",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return time.monotonic() - began
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /healthz within 60 s; see {self.log}")

    def worker_pids(self) -> list[int]:
        """The web workers: the master's children."""
        assert self.process is not None
        return children_of(self.process.pid)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name (field 2) is in parentheses and may hold spaces
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")
