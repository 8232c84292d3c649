"""What the audit hash chain costs per event, on a fresh database.

    .venv/bin/python bench/audit_append.py [--events 2000] [--threads 4] [--database-url URL]

Without --database-url it uses a new SQLite file (WAL, as in production) in a temporary
directory; give a PostgreSQL URL of an empty database (its tables are created). Each figure
is one event per transaction, as a service writes it: a plain insert of the same row (the
baseline, what the trail cost before the chain) and `audit_record` (lock the head, hash,
insert, move the head), measured in alternating rounds; then `audit_record` from several
threads at once, and `audit verify` over the whole trail. One JSON line each.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gongzhi-bench-"))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.config.settings.test"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.core.audit import audit_chain_verify, audit_record
    from gongzhi.core.models import AuditEvent
    from gongzhi.places.models import PlaceKind
    from gongzhi.places.services import place_create

    call_command("migrate", verbosity=0)
    place = place_create(actor=None, kind=PlaceKind.DISTRICT, name="基准区", segment="BENCH")
    after = {"name": "基准区", "code": "BENCH", "kind": "district"}

    def report(name: str, n: int, seconds: float) -> None:
        line = {
            "bench": name,
            "vendor": connection.vendor,
            "events": n,
            "seconds": round(seconds, 3),
            "ms_per_event": round(seconds / n * 1000, 3),
        }
        print(json.dumps(line), flush=True)

    # Plain inserts and chained appends alternate in rounds, so a machine busy with other
    # work slows both alike.
    plain = chained = 0.0
    rounds = 10
    for r in range(rounds):
        started = time.perf_counter()
        for i in range(args.events // rounds):
            with transaction.atomic():
                AuditEvent.objects.create(
                    at=timezone.now(),
                    verb="place.bench_plain",
                    object_type="places.place",
                    object_id=str(place.pk),
                    after={**after, "i": i, "r": r},
                )
        plain += time.perf_counter() - started
        started = time.perf_counter()
        for i in range(args.events // rounds):
            with transaction.atomic():
                audit_record(
                    actor=None, verb="place.bench", obj=place, after={**after, "i": i, "r": r}
                )
        chained += time.perf_counter() - started
    n = args.events // rounds * rounds
    report("plain_insert", n, plain)
    report("chained_append", n, chained)
    # The plain rows stand outside the chain; take them out before verifying it.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE verb = 'place.bench_plain'")

    per_thread = args.events // args.threads

    def work(t: int) -> None:
        for i in range(per_thread):
            with transaction.atomic():
                audit_record(actor=None, verb="place.bench", obj=place, after={"t": t, "i": i})
        connection.close()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(args.threads)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report(
        f"chained_append_{args.threads}_threads",
        per_thread * args.threads,
        time.perf_counter() - started,
    )

    started = time.perf_counter()
    chain = audit_chain_verify()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "verify",
                "vendor": connection.vendor,
                "intact": chain.intact,
                "events": chain.count,
                "seconds": round(seconds, 3),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
