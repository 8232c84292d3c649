"""`gongzhi backup` and `gongzhi restore`: a populated database round-trips into a fresh
one with every record, every photo and the audit chain intact; the restore refuses a
database that is not empty, and reports a backup that does not match its manifest."""

import io
import json
import tarfile
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from gongzhi.cases.models import CaseEvent, CasePhoto
from gongzhi.cases.services import case_complete, case_decline, case_respond, case_start
from gongzhi.core.backups import database_at
from gongzhi.core.models import AuditEvent

from .conftest import phone_photo, picture, upload


@pytest.fixture
def populated(tree, people, report):
    """The tree, one person per role, and cases with timelines and photos."""
    done = report(photos=[upload("before.jpg", phone_photo())])
    done = case_respond(actor=people["grid_worker"], case=done)
    done = case_start(actor=people["grid_worker"], case=done)
    case_complete(
        actor=people["grid_worker"],
        case=done,
        note="已更换灯泡",
        photos=[upload("after.png", picture("PNG", (30, 30)))],
    )
    declined = report("noise", text="楼上夜里装修")
    case_decline(actor=people["worker"], case=declined, reason="非本社区事务", referral="12345")
    report("litter", text="垃圾堆放 <script>alert(1)</script> 繁體 😀")
    assert CasePhoto.objects.count() == 2 and CaseEvent.objects.count() > 6
    return AuditEvent.objects.count()


@pytest.fixture
def fresh_database(tmp_path):
    """The URL of a new, empty database of the kind the tests run on; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"gz_rel_restore_{uuid.uuid4().hex[:10]}"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    params = connection.settings_dict
    yield (
        f"postgres://{params['USER']}:{params['PASSWORD']}@{params['HOST'] or 'localhost'}"
        f":{params['PORT'] or 5432}/{name}"
    )
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def rows_of(alias: str) -> dict[str, list]:
    """Every row of every table, as comparable text."""
    found = {}
    target = connections[alias]
    with target.cursor() as cursor:
        for table in target.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            found[table] = sorted(repr(row) for row in cursor.fetchall())
    return found


@pytest.mark.django_db(transaction=True)
def test_a_populated_database_round_trips_with_every_record_photo_and_the_audit_chain(
    populated, fresh_database, tmp_path
):
    archive = tmp_path / "backup.tar.gz"
    code, out = run("backup", "--out", str(archive))
    assert code == 0, out
    assert f"audit chain: {populated} events" in out
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data: the owner only

    media = tmp_path / "media"
    code, out = run(
        "restore", str(archive), "--database-url", fresh_database, "--media-root", str(media)
    )
    assert code == 0, out
    assert "verified: every table, file and the audit chain match the backup" in out

    with database_at(fresh_database) as restored:
        assert rows_of(restored) == rows_of("default")
        code, out = run("audit", "verify", "--database", restored)
        assert code == 0 and out.startswith(f"intact: {populated} events")
    for photo in CasePhoto.objects.all():
        with photo.image.open("rb") as original:
            assert (media / photo.image.name).read_bytes() == original.read()


@pytest.mark.django_db(transaction=True)
def test_a_restore_refuses_a_database_that_is_not_empty_unless_forced(
    populated, fresh_database, tmp_path
):
    archive = tmp_path / "backup.tar.gz"
    run("backup", "--out", str(archive))
    media = tmp_path / "media"
    assert (
        run("restore", str(archive), "--database-url", fresh_database, "--media-root", str(media))[
            0
        ]
        == 0
    )

    code, out = run(
        "restore", str(archive), "--database-url", fresh_database, "--media-root", str(media)
    )
    assert code == 1 and "already has" in out and "--force" in out

    code, out = run(
        "restore",
        str(archive),
        "--database-url",
        fresh_database,
        "--media-root",
        str(media),
        "--force",
    )
    assert code == 0 and "verified" in out


@pytest.mark.django_db(transaction=True)
def test_a_restore_that_does_not_match_the_manifest_says_what_differs(
    populated, fresh_database, tmp_path
):
    archive = tmp_path / "backup.tar.gz"
    run("backup", "--out", str(archive))
    # The same archive with a manifest claiming one more case and another photo hash.
    doctored = tmp_path / "doctored.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(doctored, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["tables"]["cases_case"] += 1
                manifest["media"][0]["sha256"] = "0" * 64
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))

    code, out = run(
        "restore",
        str(doctored),
        "--database-url",
        fresh_database,
        "--media-root",
        str(tmp_path / "media"),
    )

    assert code == 1
    assert "MISMATCH table cases_case: 3 rows, the backup has 4" in out
    assert "content differs from the backup's" in out


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_refused_by_a_database_of_another_kind(tmp_path):
    archive = tmp_path / "backup.tar.gz"
    run("backup", "--out", str(archive))
    other = (
        f"postgres://postgres@127.0.0.1:5432/{uuid.uuid4().hex}"
        if connection.vendor == "sqlite"
        else f"sqlite:///{tmp_path / 'other.sqlite3'}"
    )
    code, out = run("restore", str(archive), "--database-url", other)
    assert code == 1 and "the target is" in out


@pytest.mark.django_db(transaction=True)
def test_the_default_archive_goes_to_the_data_folder(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "no-media"
    code, out = run("backup")
    written = list((Path(tmp_path) / "backups").glob("gongzhi-*.tar.gz"))
    assert code == 0 and len(written) == 1 and str(written[0]) in out
    assert not list((Path(tmp_path) / "backups").glob("*.partial"))
