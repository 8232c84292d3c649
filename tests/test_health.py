"""The health endpoint, as a load balancer uses it."""

from unittest import mock

from django.db import OperationalError, connection
from django.urls import reverse


def test_health_reports_ok_while_the_database_answers(client, db):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_health_reports_unavailable_when_the_database_is_down(client, db):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}
