import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gongzhi.api.services import api_token_create
from gongzhi.cases.models import Category, Channel
from gongzhi.cases.services import case_report


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


@pytest.fixture
def category(db):
    """The seeded categories by code."""
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def report(tree, people, category, resident_at):
    """Report a case through the service (as the resident, from their dwelling, by default;
    at another home, as the neighbour who lives there)."""

    def make(code="street_light", *, actor=None, place=None, text="1号楼门口的路灯不亮了", **kw):
        place = place or tree["dwelling"]
        return case_report(
            actor=actor or resident_at(place),
            place=place,
            category=category[code],
            text=text,
            channel=kw.pop("channel", Channel.RESIDENT_PAGE),
            **kw,
        )

    return make


@pytest.fixture
def api(people, token_for):
    """Call the API with a bearer token as one of the `people`: api("worker").post(...)."""
    headers = {}

    class Caller:
        def __init__(self, who):
            if who not in headers:
                headers[who] = token_for(people[who], name=f"tests-{who}")
            self.headers = headers[who]
            self.client = Client()

        def get(self, path, data=None, **extra):
            return self.client.get(path, data, **self.headers, **extra)

        def post(self, path, data=None, **extra):
            if extra.pop("multipart", False):
                return self.client.post(path, data or {}, **self.headers, **extra)
            return self.client.post(
                path,
                json.dumps(data or {}),
                content_type="application/json",
                **self.headers,
                **extra,
            )

    return Caller


def png(name="photo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
