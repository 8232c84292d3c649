import pytest
from django.test import Client

from gongzhi.api.services import api_token_create


@pytest.fixture
def token_for(people):
    """Create a live token for a person and return the header dict to send with it."""

    def make(user, name="test"):
        _token, raw = api_token_create(actor=None, user=user, name=name)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return make


@pytest.fixture
def client_as(people):
    """A client signed in (Django session) as one of the `people`."""

    def make(key, **client_kwargs):
        client = Client(**client_kwargs)
        client.force_login(people[key])
        return client

    return make
