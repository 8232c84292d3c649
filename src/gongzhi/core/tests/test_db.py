"""The boards read from a replica when there is one; everything else from the primary."""

import pytest
from django.conf import settings
from django.db import router
from django.test import Client

from gongzhi.cases.models import Case
from gongzhi.core import db
from gongzhi.core.db import REPLICA, ReplicaRouter, reading_from_replica


@pytest.fixture
def with_replica(monkeypatch):
    """Settings that name a replica. The router only looks at the names; no connection
    to it is opened here."""
    monkeypatch.setitem(settings.DATABASES, REPLICA, dict(settings.DATABASES["default"]))


def test_without_a_replica_everything_reads_the_primary():
    with reading_from_replica():
        assert router.db_for_read(Case) == "default"
    assert router.db_for_read(Case) == "default"


def test_with_a_replica_only_reads_inside_reading_from_replica_go_there(with_replica):
    assert router.db_for_read(Case) == "default"
    with reading_from_replica():
        assert router.db_for_read(Case) == REPLICA
        assert router.db_for_write(Case) == "default"
    assert router.db_for_read(Case) == "default"
    assert not ReplicaRouter().allow_migrate(REPLICA, "cases")


@pytest.mark.parametrize(
    ("who", "url", "on_replica"),
    [
        ("secretary", "/board/{community}/", True),
        ("supervisor", "/board/area/{subdistrict}/", True),
        ("grid_worker", "/work/", False),
        ("secretary", "/api/v1/cases", False),
    ],
)
def test_the_boards_and_only_the_boards_read_through_the_replica_router(
    monkeypatch, tree, people, who, url, on_replica
):
    seen: list[bool] = []
    real = ReplicaRouter.db_for_read

    def spy(self, model, **hints):
        if model is Case:
            seen.append(db._reads_from_replica.get())
        return real(self, model, **hints)

    monkeypatch.setattr(ReplicaRouter, "db_for_read", spy)
    client = Client()
    client.force_login(people[who])
    path = url.format(community=tree["community"].code, subdistrict=tree["subdistrict"].code)
    response = client.get(path)
    assert response.status_code == 200
    assert seen and set(seen) == {on_replica}
