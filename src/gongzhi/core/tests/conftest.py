import pytest

from gongzhi.accounts.services import user_create


@pytest.fixture
def alice(db):
    return user_create(
        actor=None, username="alice", name="王阿姨", phone="13700000001", password="pw-Example-2026"
    )


@pytest.fixture
def bob(db):
    return user_create(
        actor=None, username="bob", name="李师傅", phone="13700000002", password="pw-Example-2026"
    )
