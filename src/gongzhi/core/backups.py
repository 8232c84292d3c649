"""Backups and restores: the database, the uploaded files, and a manifest to check against.

`gongzhi backup` writes one `.tar.gz` (mode 0600: it holds personal data):

- `manifest.json` — when, which database, the migrations applied, the row count of every
  table, the audit chain's head, and every uploaded file with its size and SHA-256;
- `database.sqlite3` — SQLite's online backup API copies the whole file in one step
  while the server keeps writing (WAL lets readers and the writer work side by side), or
  `database.pgdump` — `pg_dump --format=custom`, run inside a REPEATABLE READ snapshot
  that the manifest's counts are read from too, so dump and counts agree exactly;
- `media/…` — the uploaded files (case photos, documents), copied after the database
  snapshot, so every file a backed-up row names is there.

`gongzhi restore FILE` loads it into an empty database (refusing one with tables, unless
`--force`), puts the files back, and then checks the result against the manifest: the
same migrations, the same number of rows in every table, every file's hash, and an intact
audit chain ending at the same hash. A backup restores into the same kind of database it
came from.
"""

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connections
from django.db.utils import load_backend

from .audit import audit_chain_verify

FORMAT = 1
MANIFEST = "manifest.json"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead, or whose result does not match."""


@dataclass
class RestoreReport:
    """What `backup_restore` found in the restored database, against the manifest."""

    manifest: dict[str, Any]
    tables: dict[str, int]
    audit_events: int
    audit_head: str
    media_files: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def backup_create(*, out: Path, using: str = "default", media_root: Path | None = None) -> dict:
    """Write a consistent backup of database `using` and the uploaded files to `out`, and
    return its manifest. Safe while the server runs."""
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    media_root = Path(media_root or settings.MEDIA_ROOT)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gongzhi-backup-") as workdir:
        dump = Path(workdir) / DUMP_NAMES[vendor]
        if vendor == "sqlite":
            snapshot = _sqlite_dump(connection, dump)
        else:
            snapshot = _postgresql_dump(connection, dump)
        media = _media_files(media_root)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "vendor": vendor,
            **snapshot,
            "media": media,
        }
        partial = out.with_name(out.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            tar.add(dump, arcname=DUMP_NAMES[vendor])
            for entry in media:
                tar.add(media_root / entry["path"], arcname=MEDIA_PREFIX + entry["path"])
        # Only a finished archive carries the name: a crash leaves a `.partial`, never a
        # truncated file that looks like a backup.
        os.replace(partial, out)
    return manifest


def backup_manifest(*, archive: Path) -> dict:
    """The manifest of a backup archive."""
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive} has no {MANIFEST}: not a gongzhi backup.")
        manifest = json.load(member)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    return manifest


def backup_restore(
    *,
    archive: Path,
    database_url: str | None = None,
    using: str = "default",
    media_root: Path | None = None,
    force: bool = False,
) -> RestoreReport:
    """Load `archive` into an empty database (the one at `database_url`, else `using`) and
    its files into `media_root`, then compare everything with the manifest.

    Refuses a database that has tables, or a media folder that has files, unless
    `force` — then the database's contents are replaced and the files overwritten. The
    server must not be running against the target while it is restored.
    """
    manifest = backup_manifest(archive=archive)
    media_root = Path(media_root or settings.MEDIA_ROOT)
    with database_at(database_url, default=using) as alias:
        connection = connections[alias]
        if connection.vendor != manifest["vendor"]:
            raise BackupError(
                f"The backup is of a {manifest['vendor']} database; the target is"
                f" {connection.vendor}."
            )
        existing = connection.introspection.table_names()
        if existing and not force:
            raise BackupError(
                f"The target database already has {len(existing)} tables. Restore into an"
                " empty database, or pass --force to replace everything in it."
            )
        if _has_files(media_root) and not force:
            raise BackupError(
                f"{media_root} already holds files. Restore into an empty folder, or pass"
                " --force to overwrite."
            )
        with tempfile.TemporaryDirectory(prefix="gongzhi-restore-") as workdir:
            dump = Path(workdir) / DUMP_NAMES[manifest["vendor"]]
            with tarfile.open(archive, "r:gz") as tar:
                _extract_dump(tar, DUMP_NAMES[manifest["vendor"]], dump)
                if connection.vendor == "sqlite":
                    _sqlite_load(connection, dump)
                else:
                    _postgresql_load(connection, dump, replace=bool(existing))
                problems = _extract_media(tar, manifest["media"], media_root)
        connection.close()
        with connection.cursor() as cursor:
            found = _snapshot(cursor, connection.vendor)
        chain = audit_chain_verify(using=alias)
    problems += _compare(manifest, found)
    if not chain.intact:
        problems.append(f"audit chain broken at event #{chain.broken_id} ({chain.reason})")
    elif chain.head_hash != manifest["audit"]["last_hash"]:
        problems.append("audit chain ends at a different hash than the backup's")
    return RestoreReport(
        manifest=manifest,
        tables=found["tables"],
        audit_events=chain.count,
        audit_head=chain.head_hash,
        media_files=len(manifest["media"]),
        problems=problems,
    )


@contextlib.contextmanager
def database_at(url: str | None, *, default: str = "default") -> Iterator[str]:
    """The alias of a connection to the database at `url` for the duration (closed and
    forgotten afterwards), or `default` when no URL is given."""
    if not url:
        yield default
        return
    alias = f"gongzhi_{uuid.uuid4().hex[:12]}"
    # configure_settings fills in every key a connection expects (it wants a "default").
    params = connections.configure_settings({"default": dict(dj_database_url.parse(url))})
    backend = load_backend(params["default"]["ENGINE"])
    connections[alias] = backend.DatabaseWrapper(params["default"], alias)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_dump(connection: Any, dump: Path) -> dict:
    connection.ensure_connection()
    target = sqlite3.connect(dump)
    try:
        # pages=-1: the whole database in one step, so the copy is one consistent state
        # even while other connections write.
        connection.connection.backup(target, pages=-1)
    finally:
        target.close()
    copy = sqlite3.connect(dump)
    try:
        return _snapshot(copy.cursor(), "sqlite")
    finally:
        copy.close()


def _sqlite_load(connection: Any, dump: Path) -> None:
    connection.close()
    name = str(connection.settings_dict["NAME"])
    source, target = sqlite3.connect(dump), sqlite3.connect(name)
    try:
        source.backup(target, pages=-1)
    finally:
        source.close()
        target.close()


# --- PostgreSQL ---------------------------------------------------------------------------


def _postgresql_dump(connection: Any, dump: Path) -> dict:
    import psycopg

    pg_dump = _program("pg_dump")
    params = connection.settings_dict
    with psycopg.connect(**_libpq_params(params), autocommit=False) as snapshot_connection:
        cursor = snapshot_connection.cursor()
        # One snapshot for the counts and for pg_dump: the transaction exports it and
        # stays open until the dump has read everything through it.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_id = cursor.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        snapshot = _snapshot(cursor, "postgresql")
        _run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", f"--file={dump}"],
            params,
        )
        snapshot_connection.rollback()
    return snapshot


def _postgresql_load(connection: Any, dump: Path, *, replace: bool) -> None:
    if replace:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    connection.close()
    _run(
        [
            _program("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        connection.settings_dict,
    )


def _libpq_params(params: dict) -> dict:
    values = {
        "dbname": params["NAME"],
        "user": params.get("USER"),
        "password": params.get("PASSWORD"),
        "host": params.get("HOST"),
        "port": params.get("PORT"),
    }
    return {key: str(value) for key, value in values.items() if value}


def _run(argv: list[str], params: dict) -> None:
    # Connection details through libpq's environment: a password never appears in the
    # process list.
    names = {"dbname": "PGDATABASE", "user": "PGUSER", "password": "PGPASSWORD"}
    names |= {"host": "PGHOST", "port": "PGPORT"}
    env = dict(os.environ)
    env.update({names[key]: value for key, value in _libpq_params(params).items()})
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {done.stderr.strip()}")


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt install postgresql-client).")
    return found


# --- what a database holds ----------------------------------------------------------------

TABLE_LISTS = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'"
    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    " ORDER BY tablename",
}


def _snapshot(cursor: Any, vendor: str) -> dict:
    """Row counts of every table, the migrations applied and the audit chain's head, read
    through one DB-API cursor (so inside whatever snapshot it stands in)."""
    cursor.execute(TABLE_LISTS[vendor])
    names = [row[0] for row in cursor.fetchall()]
    tables = {}
    for name in names:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(name)}")
        tables[name] = cursor.fetchone()[0]
    migrations: list[str] = []
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    audit = {"length": 0, "last_id": 0, "last_hash": ""}
    if "core_auditchainhead" in tables:
        cursor.execute("SELECT length, last_id, last_hash FROM core_auditchainhead WHERE id = 1")
        row = cursor.fetchone()
        if row is not None:
            audit = {"length": row[0], "last_id": row[1], "last_hash": row[2]}
    return {"tables": tables, "migrations": migrations, "audit": audit}


def _compare(manifest: dict, found: dict) -> list[str]:
    problems = []
    if found["migrations"] != manifest["migrations"]:
        problems.append("the migrations applied differ from the backup's")
    for table in sorted(set(manifest["tables"]) | set(found["tables"])):
        expected, got = manifest["tables"].get(table), found["tables"].get(table)
        if expected != got:
            problems.append(f"table {table}: {got} rows, the backup has {expected}")
    if found["audit"] != manifest["audit"]:
        problems.append("the audit chain head differs from the backup's")
    return problems


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- uploaded files -----------------------------------------------------------------------


def _media_files(root: Path) -> list[dict]:
    if not root.is_dir():
        return []
    files = []
    for path in sorted(root.rglob("*")):
        # Regular files only: a symlink could point anywhere on the machine.
        if path.is_file() and not path.is_symlink():
            files.append(
                {
                    "path": path.relative_to(root).as_posix(),
                    "size": path.stat().st_size,
                    "sha256": _sha256(path),
                }
            )
    return files


def _has_files(root: Path) -> bool:
    return root.is_dir() and any(path.is_file() for path in root.rglob("*"))


def _extract_dump(tar: tarfile.TarFile, name: str, target: Path) -> None:
    member = tar.extractfile(name)
    if member is None:
        raise BackupError(f"The backup has no {name}.")
    with target.open("wb") as out:
        shutil.copyfileobj(member, out, CHUNK)


def _extract_media(tar: tarfile.TarFile, expected: list[dict], root: Path) -> list[str]:
    """Write the archive's files under `root`, each checked against its manifest hash;
    returns what did not match. Names are taken only from the manifest and must stay
    inside `root` — an archive cannot write anywhere else."""
    problems = []
    root.mkdir(parents=True, exist_ok=True)
    for entry in expected:
        relative = PurePosixPath(entry["path"])
        if relative.is_absolute() or ".." in relative.parts:
            problems.append(f"file {entry['path']}: refused, outside the media folder")
            continue
        try:
            member = tar.getmember(MEDIA_PREFIX + entry["path"])
        except KeyError:
            problems.append(f"file {entry['path']}: missing from the backup")
            continue
        source = tar.extractfile(member) if member.isfile() else None
        if source is None:
            problems.append(f"file {entry['path']}: not a regular file in the backup")
            continue
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if _copy_hashed(source, target) != entry["sha256"]:
            problems.append(f"file {entry['path']}: content differs from the backup's")
    return problems


def _copy_hashed(source: Any, target: Path) -> str:
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))
