"""The home page and the header lead each role to its work, and only to pages that open."""

import re

import pytest
from django.urls import reverse

from gongzhi.accounts.models import Relation
from gongzhi.accounts.services import residency_claim, user_create
from gongzhi.core.navigation import entry_links_for
from gongzhi.places.services import cluster_create

HOME = reverse("home")
TOPICS = reverse("deliberation:topics")


def links_of(user):
    return {(link.key, link.url) for link in entry_links_for(user=user)}


def keys_of(user):
    return [link.key for link in entry_links_for(user=user)]


def board(place):
    return reverse("insights:community", args=[place.code])


def area(place):
    return reverse("insights:area", args=[place.code])


def report_page(community):
    return reverse("resident:report", args=[community.settings.report_slug])


@pytest.mark.parametrize(
    "who",
    sorted(
        [
            "grid_worker",
            "grid_leader",
            "worker",
            "secretary",
            "property",
            "owners_committee",
            "mediator",
            "supervisor",
            "district_supervisor",
            "volunteer",
            "partner",
            "admin",
            "resident",
            "other_worker",
        ]
    ),
)
def test_every_link_a_person_is_offered_opens_for_them(client, people, who):
    client.force_login(people[who])
    links = entry_links_for(user=people[who])
    assert links, "everyone signed in has somewhere to start"
    for link in links:
        response = client.get(link.url)
        assert response.status_code == 200, (who, link.url, response.status_code)


def test_a_resident_is_led_to_report_follow_and_claim(client, people, tree):
    resident = people["resident"]
    assert links_of(resident) == {
        ("report", report_page(tree["community"])),
        ("my_cases", reverse("resident:my_cases")),
        ("claim", reverse("accounts:claim")),
        ("topics", TOPICS),
    }
    client.force_login(resident)
    text = client.get(HOME).content.decode()
    assert "我的社区" in text and "我的工作" not in text
    assert report_page(tree["community"]) in text and "虹桥新城居民区" in text
    assert reverse("cases_worker:inbox") not in text


def test_a_resident_gets_the_report_page_of_each_community_they_live_in(people, tree):
    residency_claim(user=people["resident"], place=tree["other_dwelling"], relation=Relation.TENANT)
    reports = [link for link in entry_links_for(user=people["resident"]) if link.key == "report"]
    assert [link.url for link in reports] == [
        report_page(tree["community"]),
        report_page(tree["other_community"]),
    ]
    # Two report pages: the header says which community each is.
    assert [link.nav_text for link in reports] == ["反映问题·虹桥新城居民区", "反映问题·另一居民区"]


def test_someone_new_without_a_home_is_asked_to_claim_one(db):
    newcomer = user_create(actor=None, username="newcomer", name="陈女士", phone="13712345678")
    assert keys_of(newcomer) == ["my_cases", "claim"]


@pytest.mark.parametrize("who", ["grid_worker", "grid_leader", "property", "owners_committee"])
def test_handlers_without_a_board_get_the_inbox_and_the_fast_entry(people, who):
    assert keys_of(people[who]) == ["work", "entry", "topics"]


@pytest.mark.parametrize("who", ["worker", "secretary"])
def test_community_staff_also_verify_claims_and_read_their_board(people, tree, who):
    assert links_of(people[who]) == {
        ("work", reverse("cases_worker:inbox")),
        ("entry", reverse("cases_worker:new")),
        ("verification", reverse("accounts:verification_queue")),
        ("board", board(tree["community"])),
        ("topics", TOPICS),
    }


def test_a_secretary_living_in_their_community_gets_its_report_page_and_its_board(people, tree):
    residency_claim(user=people["secretary"], place=tree["dwelling_102"], relation=Relation.OWNER)
    links = entry_links_for(user=people["secretary"])
    assert [link.key for link in links] == [
        "report",
        "my_cases",
        "claim",
        "work",
        "entry",
        "verification",
        "board",
        "topics",
    ]
    urls = {link.key: link.url for link in links}
    assert urls["report"] == report_page(tree["community"])
    assert urls["board"] == board(tree["community"])


def test_the_home_page_counts_claims_waiting_for_verification(client, people, tree):
    neighbour = user_create(actor=None, username="neighbour", name="邻居", phone="13900000002")
    residency_claim(user=neighbour, place=tree["dwelling_102"], relation=Relation.OWNER)
    client.force_login(people["worker"])
    text = client.get(HOME).content.decode()
    assert re.search(
        r'data-entry="verification">居住关系核验.*?<span class="badge"[^>]*>1</span>', text
    )


def test_supervisors_get_their_area_table_and_the_clusters_they_can_read(people, tree):
    cluster = cluster_create(
        actor=None, code="P2", name="第二片区", communities=[tree["community"]]
    )
    assert links_of(people["supervisor"]) == {
        ("work", reverse("cases_worker:inbox")),
        ("area", area(tree["subdistrict"])),
        ("cluster", reverse("insights:cluster", args=[cluster.code])),
        ("topics", TOPICS),
    }
    assert ("area", area(tree["district"])) in links_of(people["district_supervisor"])
    # Another community's worker cannot read the cluster's only community.
    assert "cluster" not in keys_of(people["other_worker"])


def test_the_administrator_gets_every_district_the_verification_queue_and_the_admin(people, tree):
    assert links_of(people["admin"]) == {
        ("work", reverse("cases_worker:inbox")),
        ("verification", reverse("accounts:verification_queue")),
        ("area", area(tree["district"])),
        ("admin", reverse("admin:index")),
        ("topics", TOPICS),
    }


@pytest.mark.parametrize("who", ["volunteer", "partner"])
def test_volunteers_and_partners_get_only_what_exists_for_them(people, who):
    assert keys_of(people[who]) == ["my_cases", "claim"]


def test_the_header_shows_the_same_links_on_every_page(client, people, tree):
    client.force_login(people["secretary"])
    inbox = client.get(reverse("cases_worker:inbox")).content.decode()
    header = inbox[inbox.index("<nav") : inbox.index("</nav>")]
    for link in entry_links_for(user=people["secretary"]):
        assert f'href="{link.url}"' in header
    assert f'href="{reverse("cases_worker:inbox")}" aria-current="page"' in header


def test_no_entry_links_for_someone_not_signed_in(client, tree):
    page = client.get(report_page(tree["community"])).content.decode()
    header = page[page.index("<nav") : page.index("</nav>")]
    assert "<a" not in header
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
