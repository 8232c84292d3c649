"""`gongzhi worker` on Redis (TASK_BACKEND=rq), as an operator runs it: the same tasks as on
the database queue, enqueued by the same code, run by django-rq's worker.

A child process works on a fresh SQLite file and Redis database 11 (only the `rq:` keys it
made are removed afterwards): its ticker enqueues the periodic tasks on Redis, a
notification queued by `notify` is delivered by a task that went through Redis too, and a
report accepted with a receipt is filed as a case — with rq's forking Worker and with its
SimpleWorker (GONGZHI_RQ_WORKER_CLASS).
"""

import sqlite3
import time
from pathlib import Path

import pytest

from tests.helpers import child_env, gongzhi, worker_running
from tests.test_worker import RECEIPT_SETUP

redis = pytest.importorskip("redis")

REDIS_DB = 11
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"

# The delivery `notify` enqueued, and every periodic task the ticker enqueues at start.
TASKS = (
    "gongzhi.core.tasks.deliver_notifications",
    "gongzhi.core.tasks.retry_notifications",
    "gongzhi.cases.tasks.check_clocks",
    "gongzhi.cases.tasks.close_unanswered_follow_ups",
    "gongzhi.accounts.tasks.prune_sign_in_records",
)

SETUP = """
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from gongzhi.accounts.models import User
from gongzhi.core.models import Notification
from gongzhi.core.notifications import notify

user = User.objects.create_user(username="rq-resident", password="x", phone="13912345678")
# Stranded ten minutes ago: only the periodic retry (enqueued by the ticker) picks it up.
stale = Notification.objects.create(recipient=user, channel="sms", verb="t", title="stale")
Notification.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
# Queued now: its first delivery is enqueued on Redis when the transaction commits.
with transaction.atomic():
    notify(recipients=[user], verb="t", title="fresh", channels=["in_app", "sms"])
"""


def _redis():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return client


def _receipt_state(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT state FROM cases_reportreceipt").fetchone()[0]


def _sent(db: Path) -> dict[str, bool]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT title, sent_at IS NOT NULL FROM core_notification WHERE channel = 'sms'"
        ).fetchall()
    return {title: bool(sent) for title, sent in rows}


@pytest.mark.parametrize("worker_class", ["rq.worker.Worker", "rq.worker.SimpleWorker"])
def test_the_worker_runs_periodic_and_enqueued_tasks_through_redis(tmp_path, worker_class):
    client = _redis()
    for key in client.scan_iter("rq:*"):
        client.delete(key)
    env = child_env(
        tmp_path, TASK_BACKEND="rq", REDIS_URL=REDIS_URL, GONGZHI_RQ_WORKER_CLASS=worker_class
    )
    assert gongzhi("migrate", "-v0", env=env).returncode == 0
    setup = gongzhi("shell", "-c", SETUP, env=env)
    assert setup.returncode == 0, setup.stderr
    # A report accepted with a receipt, for the worker to file: from a watcher thread in a
    # worker that runs jobs itself, as a job enqueued on a timer in one that forks per job.
    receipt = gongzhi("shell", "-c", RECEIPT_SETUP, env=env)
    assert receipt.returncode == 0, receipt.stderr
    # The delivery went to Redis, not to the database queue.
    assert client.llen("rq:queue:default") == 1
    db = tmp_path / "gongzhi.sqlite3"
    assert _sent(db) == {"stale": False, "fresh": False}

    log = tmp_path / "worker.log"
    try:
        with worker_running(env, log):
            deadline = time.monotonic() + 90
            text = ""
            while time.monotonic() < deadline:
                text = log.read_text()
                if (
                    _sent(db) == {"stale": True, "fresh": True}
                    and _receipt_state(db) == "filed"
                    and all(f"path={path} state=SUCCESSFUL" in text for path in TASKS)
                ):
                    break
                time.sleep(0.5)
    finally:
        for key in client.scan_iter("rq:*"):
            client.delete(key)

    assert _sent(db) == {"stale": True, "fresh": True}, text[-3000:]
    assert _receipt_state(db) == "filed", text[-3000:]
    for path in TASKS:
        assert f"path={path} state=SUCCESSFUL" in text, path
    assert "state=FAILED" not in text
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM core_smsmessage").fetchone() == (2,)
