from django.db.models import OuterRef, Q

from gongzhi.accounts.models import User
from gongzhi.core.queries import InSubquery


def _alice_or_bob():
    return User.objects.filter(
        Q(username="alice") | Q(InSubquery("pk", User.objects.filter(username="bob").values("pk")))
    )


def test_a_condition_reads_the_same_rows_however_often_it_is_compiled(alice, bob):
    users = _alice_or_bob()
    assert str(users.query) == str(users.query)
    assert set(users.all()) == {alice, bob}
    assert set(users.all()) == {alice, bob}
    assert users.count() == 2
    # Inside another query's subquery (as `cases_page` chooses a page's ids), twice.
    page = User.objects.filter(InSubquery("pk", users.order_by("username").values("pk")[1:2]))
    assert list(page) == [bob]
    assert list(page) == [bob]
    assert set(User.objects.filter(pk__in=users.values("pk"))) == {alice, bob}


def test_a_subquery_that_refers_to_the_query_around_it_follows_it(alice, bob):
    named_bob = User.objects.filter(pk=OuterRef("pk"), username="bob").values("pk")
    users = User.objects.filter(InSubquery("pk", named_bob))
    assert list(users) == [bob]
    assert list(User.objects.filter(pk__in=users.values("pk"))) == [bob]
    assert list(User.objects.exclude(pk__in=users.values("pk"))) == [alice]
