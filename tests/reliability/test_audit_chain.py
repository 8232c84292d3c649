"""The audit trail is a hash chain: `gongzhi audit verify` finds an edited, deleted or
smuggled-in event, and appends stay one chain when many transactions write at once."""

import itertools
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.accounts.services import user_create
from gongzhi.core.audit import audit_chain_seal, audit_chain_verify, audit_record, event_hash
from gongzhi.core.models import AuditChainHead, AuditEvent
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import place_create


def verify() -> tuple[int, str]:
    """Runs `gongzhi audit verify` and returns (exit code, what it printed)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def trail(tree, people):
    """A trail written by the services: the tree, the people and a few more places."""
    for n in range(3):
        place_create(
            actor=people["admin"],
            kind=PlaceKind.DWELLING,
            name=f"10{n + 3}室",
            segment=f"10{n + 3}",
            parent=tree["entrance"],
        )
    return list(AuditEvent.objects.order_by("pk"))


def test_the_services_trail_is_intact_and_every_event_counted(trail):
    code, out = verify()
    assert code == 0
    head = AuditChainHead.objects.get()
    assert out.strip() == f"intact: {len(trail)} events, head {head.last_hash}"
    assert head.last_id == trail[-1].pk and head.length == len(trail)
    # Each event points at the one before it; the migrations' seeded events are in it too.
    assert trail[0].prev_hash == ""
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(trail))
    assert AuditEvent.objects.filter(verb="category.seed").exists()


def test_an_event_edited_with_raw_sql_is_caught_and_named(trail):
    victim = trail[len(trail) // 2]
    raw(
        "UPDATE core_auditevent SET after = %s WHERE id = %s",
        ['{"name": "改过的名字"}', victim.pk],
    )
    code, out = verify()
    assert code == 1
    assert f"broken at event #{victim.pk} " in out
    assert "edited" in out
    assert f"{len(trail) // 2} events before it are intact" in out


def test_an_event_rewritten_with_a_fresh_hash_breaks_the_next_link(trail):
    victim, follower = trail[5], trail[6]
    forged = event_hash(
        prev_hash=victim.prev_hash,
        at=victim.at,
        actor_id=victim.actor_id,
        verb="place.nothing_happened",
        object_type=victim.object_type,
        object_id=victim.object_id,
        before=victim.before,
        after=victim.after,
    )
    raw(
        "UPDATE core_auditevent SET verb = 'place.nothing_happened', hash = %s WHERE id = %s",
        [forged, victim.pk],
    )
    code, out = verify()
    assert code == 1 and f"broken at event #{follower.pk} " in out


def test_a_deleted_event_is_caught_at_the_one_after_it(trail):
    victim, follower = trail[3], trail[4]
    raw("DELETE FROM core_auditevent WHERE id = %s", [victim.pk])
    code, out = verify()
    assert code == 1
    assert f"broken at event #{follower.pk} " in out and "deleted" in out


def test_deleting_the_newest_event_is_caught_through_the_head(trail):
    raw("DELETE FROM core_auditevent WHERE id = %s", [trail[-1].pk])
    code, out = verify()
    assert code == 1
    assert f"broken at event #{trail[-1].pk} " in out and "newest events were deleted" in out


def test_an_event_smuggled_in_around_the_chain_is_caught(trail, people):
    # Written as a data migration would, without hashes, then a normal append after it.
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=trail[-1].at, verb="user.sign_in", object_type="accounts.user", object_id="1"
            )
        ]
    )
    smuggled = AuditEvent.objects.latest("pk")
    audit_record(actor=people["admin"], verb="place.update", obj=people["admin"])
    code, out = verify()
    assert code == 1 and f"broken at event #{smuggled.pk} " in out and "around the chain" in out


def test_events_written_by_data_migrations_are_sealed_at_the_end_of_the_chain(trail):
    # Other apps' data migrations write with historical models, leaving the hashes empty;
    # `migrate` seals them when it finishes.
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=trail[-1].at,
                verb="category.seed",
                object_type="cases.category",
                object_id=str(n),
            )
            for n in range(3)
        ]
    )
    assert verify()[0] == 1
    assert audit_chain_seal() == 3
    code, out = verify()
    assert code == 0 and f"intact: {len(trail) + 3} events" in out
    assert audit_chain_seal() == 0


def test_awkward_values_hash_the_same_after_the_database_gives_them_back(people):
    after = {
        "text": "繁體 ＡＢＣ 😀 مرحبا <script>alert(1)</script>\n",
        "float": 1.0,
        "big": 1e20,
        "small": 1e-7,
        "third": 1 / 3,
        "nested": {"b": [1, 2.5, None, True], "a": {"z": ""}},
        3: "a non-string key",
    }
    audit_record(actor=people["admin"], verb="user.update", obj=people["admin"], after=after)
    assert audit_chain_verify().intact


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_the_hash_depends_on_the_value_not_on_how_a_whole_number_is_written(value):
    import json
    from datetime import UTC, datetime

    def digest(v):
        return event_hash(
            prev_hash="",
            at=datetime(2026, 11, 27, tzinfo=UTC),
            actor_id=1,
            verb="x",
            object_type="t",
            object_id="1",
            before={},
            after={"v": v},
        )

    assert digest(value) == digest(json.loads(json.dumps(value)))


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_linear_chain(tree, people):
    """Eight threads append at once; every event is in one chain, in the order of its id."""
    per_thread, threads = 15, 8
    start = threading.Barrier(threads)
    failures: list[BaseException] = []
    before = AuditEvent.objects.count()

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                for _attempt in range(200):
                    try:
                        audit_record(
                            actor=None,
                            verb="place.touch",
                            obj=tree["dwelling"],
                            after={"t": n, "i": i},
                        )
                        break
                    except OperationalError:
                        # The tests' in-memory SQLite (shared cache) refuses a second writer at
                        # once instead of queueing it as a file database does: try again.
                        if connection.vendor != "sqlite":
                            raise
                        time.sleep(0.005)
                else:
                    raise AssertionError("never got to write")
        except BaseException as exc:  # reported to the main thread below
            failures.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures, failures
    report = audit_chain_verify()
    assert report.intact, report
    assert report.count == before + per_thread * threads == AuditEvent.objects.count()


def test_appending_takes_three_statements(people):
    """Lock the head, insert the event, move the head: the chain's whole cost per event."""
    user = user_create(actor=None, username="someone", name="某人", phone="13700000000")
    with CaptureQueriesContext(connection) as captured:
        audit_record(actor=people["admin"], verb="user.update", obj=user)
    # inside the test's transaction the append's own atomic block is a savepoint pair
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 3, statements
    assert "FOR UPDATE" in statements[0] or connection.vendor == "sqlite"


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_the_events_written_before_the_chain(tree):
    """An existing database: the trail written before the chain existed is hashed into one
    chain, oldest first, when the migration runs."""
    from django.db.migrations.executor import MigrationExecutor

    before_chain = [("core", "0002_workdayoverride_notification")]
    executor = MigrationExecutor(connection)
    executor.migrate(before_chain)
    old_apps = executor.loader.project_state(before_chain).apps
    OldEvent = old_apps.get_model("core", "AuditEvent")
    OldEvent.objects.create(
        at=timezone.now(), verb="place.create", object_type="places.place", object_id="1"
    )
    written = OldEvent.objects.count()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    report = audit_chain_verify()
    assert report.intact and report.count == written == AuditEvent.objects.count()
    assert not AuditEvent.objects.filter(hash="").exists()
