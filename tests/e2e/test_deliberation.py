"""Stories 6 and 4 of the seed article in a real browser (stories.md).

Story 6, 临汾路99弄: the owners' committee writes the road renovation plan, funds it from
the maintenance fund and a subsidy, and notices an owners' vote (item 7); an owner votes
on her phone, the committee enters the paper and proxy ballots, counts, and the result
page shows both ratios against both thresholds; the plan is adopted and built in
milestones that residents follow on their phones, the last one delivering 230 spaces.

Story 4, 张家宅 (国际丽都城): three sewage cases at the gate suggest a topic; the worker
turns them into one, moves it to planning, writes a drain line plan, and the page refuses
a funding split that does not add up (keeping what was typed) before accepting
government subsidy + maintenance fund + street shops adding up exactly to the cost; the
plan is built, completed, and the three cases close with their reporter told.

Screenshots of every page at 1280 and 375 px go to GONGZHI_SCREENSHOTS (else tmp_path).
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from gongzhi.accounts.models import Relation, Role
from gongzhi.accounts.services import residency_claim, residency_verify, role_assign, user_create
from gongzhi.cases.models import Case, Category, Channel
from gongzhi.cases.services import case_report, category_save
from gongzhi.core.models import Notification
from gongzhi.deliberation import services
from gongzhi.deliberation.models import OwnersVote, Plan, PlanState, Topic
from gongzhi.deliberation.states import TopicAction, TopicState
from gongzhi.places.models import CommunityType, PlaceKind
from gongzhi.places.services import place_create

PASSWORD = "pw-Example-2026"


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("GONGZHI_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "road.png"
    Image.new("RGB", (96, 64), (90, 140, 60)).save(path, format="PNG")
    return path


def person(username, phone, name, role=None, place=None):
    user = user_create(actor=None, username=username, name=name, phone=phone, password=PASSWORD)
    if role:
        role_assign(actor=None, user=user, role=role, place=place)
    return user


def estate_with_homes(district, subdistrict, community, estate, areas, code):
    """A community with one estate, one building and dwellings of the given areas."""

    def add(kind, name, segment, parent=None, **fields):
        return place_create(
            actor=None, kind=kind, name=name, segment=segment, parent=parent, **fields
        )

    d = add(PlaceKind.DISTRICT, district[0], district[1])
    s = add(PlaceKind.SUBDISTRICT, subdistrict[0], subdistrict[1], d)
    c = add(PlaceKind.COMMUNITY, community, code, s, community_type=CommunityType.COMMERCIAL)
    e = add(PlaceKind.ESTATE, estate, "E1", c)
    b = add(PlaceKind.BUILDING, "1号楼", "B1", e)
    homes = {
        room: add(PlaceKind.DWELLING, f"{room}室", room, b, exclusive_area=area)
        for room, area in areas.items()
    }
    return c, e, homes


def owner(worker, username, phone, name, home):
    user = person(username, phone, name)
    residency = residency_claim(user=user, place=home, relation=Relation.OWNER)
    residency_verify(actor=worker, residency=residency)
    return user


def sign_in(login, page, username):
    """Sign in as `username` afresh: another person on the same tab, or the same person
    after a jump in time has expired their session."""
    page.context.clear_cookies()
    login(page, username, PASSWORD)


def no_browser_errors(page_log):
    assert page_log.console_errors == []
    assert page_log.page_errors == []
    # A request cut short because the test moved on to the next page (the header's
    # unread-count poll) is not a failure; any error answer is.
    assert [r for r in page_log.failed_requests if "ERR_ABORTED" not in r] == []


# --- story 6 --------------------------------------------------------------------------------------


@pytest.fixture
def lfl99(transactional_db):
    """临汾路99弄: five homes (400 ㎡), four verified owners, a committee member, the
    property company; the owners' meeting has adopted electronic voting."""
    community, estate, homes = estate_with_homes(
        ("静安区", "310106"),
        ("临汾路街道", "LFL"),
        "临汾路99弄居民区",
        "临汾路99弄小区",
        {"101": "90.00", "102": "90.00", "201": "90.00", "202": "60.00", "301": "70.00"},
        "LFL99",
    )
    worker = person("lfl-worker", "13600000001", "社区工作者", Role.COMMUNITY_WORKER, community)
    people = {
        "worker": worker,
        "committee": person("lfl-oc1", "13600000002", "业委会主任", Role.OWNERS_COMMITTEE, estate),
        "property": person("lfl-pm", "13600000003", "物业经理", Role.PROPERTY_MANAGER, estate),
        "chen": owner(worker, "chen", "13600000011", "陈静", homes["101"]),
        "lin": owner(worker, "lin", "13600000012", "林海", homes["102"]),
        "huang": owner(worker, "huang", "13600000013", "黄丽", homes["201"]),
        "wu": owner(worker, "wu", "13600000014", "吴刚", homes["202"]),
    }
    services.owners_meeting_rules_set(
        actor=people["committee"],
        estate=estate,
        electronic_voting=True,
        adopted_on=timezone.localdate() - timedelta(days=90),
    )
    topic = services.topic_open(
        actor=worker,
        community=community,
        estate=estate,
        title="小区停车位严重不足",
        description="夜间车辆占用消防通道，居民反映强烈",
    )
    for action in (TopicAction.DELIBERATE, TopicAction.PLAN):
        topic = services.topic_advance(actor=worker, topic=topic, action=action)
    return {"community": community, "estate": estate, "homes": homes, "topic": topic, **people}


def enter_ballot(page, home, choice, channel="纸质表决票（业委会录入）", proxy=None):
    card = page.locator("li.entry").filter(has_text=f"1号楼 {home}室")
    card.locator("summary").click()
    card.get_by_label(choice, exact=True).check()
    card.get_by_label(channel).check()
    if proxy:
        card.get_by_label("受托人（书面委托时填写）").fill(proxy[0])
        card.get_by_label("委托书说明").fill(proxy[1])
    card.get_by_role("button", name="录入").click()
    expect(page.locator(".messages")).to_contain_text(f"1号楼 {home}室 的选票")


def test_story_6_owners_pass_the_road_plan_and_residents_follow_its_milestones(
    page, phone_page, page_log, login, lfl99, photo, shots
):
    topic = lfl99["topic"]
    sign_in(login, page, "lfl-oc1")
    page.goto(reverse("deliberation:topic", args=[topic.pk]))
    expect(page.locator(".loop .step.current")).to_contain_text("方案制定")
    expect(page.locator(".loop .step.current")).to_contain_text("当前阶段")

    # The plan, as the committee writes it on the page.
    page.get_by_role("link", name="拟订方案").click()
    page.get_by_label("方案名称").fill("小区道路改造增加停车位方案")
    page.get_by_label("方案内容").fill("拓宽主干道，改造绿化边角，划设停车位，清理消防通道")
    page.get_by_label("总造价（元）").fill("2300000")
    page.get_by_label("须经业主大会表决（民法典第二百七十八条事项）").check()
    page.get_by_label("表决事项").select_option(label="（七）改建、重建建筑物及其附属设施")
    page.get_by_role("button", name="保存方案").click()
    expect(page.locator("h1")).to_have_text("小区道路改造增加停车位方案")
    page.locator("details.edit").first.locator("summary").click()
    page.get_by_label("维修资金（元）").fill("1800000")
    page.get_by_label("政府补贴（元）").fill("500000")
    page.get_by_role("button", name="保存出资").click()
    expect(page.locator(".messages")).to_contain_text("出资已保存")
    expect(page.locator(".funding-table tfoot")).to_contain_text("2,300,000.00")
    # A plan the owners must decide is not adopted by hand.
    expect(page.get_by_role("button", name="通过方案，进入实施")).to_have_count(0)

    # The notice: the committee convenes; the vote opens after the 15-day notice period.
    page.get_by_role("link", name="返回议题").click()
    page.get_by_role("link", name="发布业主表决公告").click()
    expect(page.locator(".facts")).to_contain_text("表决须在公告 15 天后开始")
    page.get_by_role("button", name="发布公告").click()
    expect(page.locator(".messages")).to_contain_text("表决公告已发布")
    expect(page.locator(".notice-card")).to_contain_text("（七）改建、重建建筑物及其附属设施")
    expect(page.locator(".notice-card")).to_contain_text("四分之三以上（含本数）")
    page.screenshot(path=shots / "deliberation-vote-notice-1280.png", full_page=True)
    vote = OwnersVote.objects.get(topic=topic)

    # During the vote: 陈静 votes on her phone; the committee enters the paper ballots.
    with time_machine.travel(vote.opens_at + timedelta(hours=2), tick=True):
        sign_in(login, phone_page, "chen")
        phone_page.goto(reverse("deliberation:vote", args=[vote.pk]))
        expect(phone_page.locator(".ballot")).to_contain_text("计为一位业主")
        phone_page.get_by_label("同意").check()
        phone_page.screenshot(path=shots / "deliberation-vote-ballot-375.png", full_page=True)
        phone_page.get_by_role("button", name="提交选票").click()
        expect(phone_page.locator(".messages")).to_contain_text("您的选票已提交")
        expect(phone_page.locator(".ballot")).to_contain_text("您已投票：同意（线上投票")

        sign_in(login, page, "lfl-oc1")
        page.goto(reverse("deliberation:vote_enter", args=[vote.pk]))
        enter_ballot(page, "102", "同意")
        enter_ballot(page, "201", "同意")
        enter_ballot(
            page,
            "202",
            "反对",
            channel="书面委托代投",
            proxy=("吴小刚", "业主吴刚书面委托其子代为投票"),
        )
        page.screenshot(path=shots / "deliberation-vote-enter-1280.png", full_page=True)

    # After it closes the committee counts; the result page shows both ratios.
    with time_machine.travel(vote.closes_at + timedelta(hours=1), tick=True):
        sign_in(login, page, "lfl-oc1")
        page.goto(reverse("deliberation:vote", args=[vote.pk]))
        page.get_by_role("button", name="计票").click()
        result = page.locator(".result")
        expect(result.locator(".verdict")).to_have_text("✓ 表决通过")
        rows = result.locator("tbody tr")
        expect(rows.nth(0)).to_contain_text("330.00 / 400.00")
        expect(rows.nth(0)).to_contain_text("82.50%")
        expect(rows.nth(0)).to_contain_text("≥ 2/3")
        expect(rows.nth(1)).to_contain_text("4 / 5")
        expect(rows.nth(1)).to_contain_text("80.00%")
        expect(rows.nth(2)).to_contain_text("270.00 / 330.00")
        expect(rows.nth(2)).to_contain_text("81.82%")
        expect(rows.nth(2)).to_contain_text("≥ 3/4")
        # Exactly three quarters of the owners: "以上" includes the boundary.
        expect(rows.nth(3)).to_contain_text("3 / 4")
        expect(rows.nth(3)).to_contain_text("75.00%")
        expect(rows.nth(3)).to_contain_text("✓ 达到")
        page.screenshot(path=shots / "deliberation-vote-result-1280.png", full_page=True)
        plan = Plan.objects.get(topic=topic)
        assert plan.state == PlanState.ADOPTED
        assert Topic.objects.get(pk=topic.pk).state == TopicState.IMPLEMENTING

        # The property company sets the milestones and reports progress with a photo.
        sign_in(login, page, "lfl-pm")
        page.goto(reverse("deliberation:plan", args=[plan.pk]))
        for title, start, end in (
            ("道路拓宽施工", "2026-05-01", "2026-06-15"),
            ("划设停车位并验收", "2026-06-16", "2026-07-15"),
        ):
            adder = page.locator("details.edit").filter(has_text="添加节点")
            adder.locator("summary").click()
            adder.get_by_label("节点名称").fill(title)
            adder.get_by_label("计划开始").fill(start)
            adder.get_by_label("计划完成").fill(end)
            adder.get_by_role("button", name="添加").click()
            expect(page.locator(".messages")).to_contain_text("节点已添加")
        page.get_by_role("link", name="查看实施进度").click()
        first = page.locator("li.milestone").nth(0)
        first.locator("summary").click()
        first.get_by_label("状态").select_option(label="进行中")
        first.get_by_label("进度（%）").fill("60")
        first.get_by_label("最新进展").fill("主干道东段已拓宽")
        first.get_by_label("现场照片").set_input_files(photo)
        first.get_by_label("照片说明").fill("东段施工现场")
        first.get_by_role("button", name="保存进展").click()
        expect(page.locator(".messages")).to_contain_text("进展已更新")

        # A resident follows it on the phone: words, a bar, the photo.
        sign_in(login, phone_page, "lin")
        phone_page.goto(reverse("deliberation:implementation", args=[plan.pk]))
        milestone = phone_page.locator("li.milestone").nth(0)
        expect(milestone).to_contain_text("进行中")
        expect(milestone).to_contain_text("60%")
        expect(milestone).to_contain_text("主干道东段已拓宽")
        image = milestone.get_by_alt_text("东段施工现场")
        expect(image).to_be_visible()
        phone_page.wait_for_function(
            "(img) => img.complete && img.naturalWidth === 96", arg=image.element_handle()
        )
        expect(phone_page.get_by_text("更新进展")).to_have_count(0)

        for index, outcome in ((0, ""), (1, "新增停车位 230 个，消防通道全部清空")):
            card = page.locator("li.milestone").nth(index)
            card.locator("summary").click()
            card.get_by_label("状态").select_option(label="已完成")
            card.get_by_label("进度（%）").fill("100")
            card.get_by_label("成果").fill(outcome)
            card.get_by_role("button", name="保存进展").click()
            expect(page.locator(".messages")).to_contain_text("进展已更新")

        phone_page.reload()
        expect(phone_page.locator(".outcome")).to_contain_text("新增停车位 230 个")
        expect(phone_page.locator("main")).to_contain_text("总体进度")
        expect(phone_page.locator("main")).to_contain_text("100%")
        phone_page.screenshot(path=shots / "deliberation-implementation-375.png", full_page=True)
        page.screenshot(path=shots / "deliberation-implementation-1280.png", full_page=True)

        phone_page.goto(reverse("deliberation:topic", args=[topic.pk]))
        expect(phone_page.locator(".loop .step.current")).to_contain_text("方案落地")
        expect(phone_page.locator(".loop .step").nth(3)).to_contain_text("已完成")
        expect(phone_page.locator(".timeline")).to_contain_text("表决通过")
        phone_page.screenshot(path=shots / "deliberation-topic-375.png", full_page=True)
        page.goto(reverse("deliberation:topic", args=[topic.pk]))
        page.screenshot(path=shots / "deliberation-topic-1280.png", full_page=True)
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375

    no_browser_errors(page_log)


# --- story 4 --------------------------------------------------------------------------------------


@pytest.fixture
def zjz(transactional_db):
    """张家宅 / 国际丽都城: three homes at the gate, a worker, the property company."""
    community, estate, homes = estate_with_homes(
        ("静安区", "310106"),
        ("石门二路街道", "SMEL"),
        "张家宅居民区",
        "国际丽都城",
        {"101": "120.00", "102": "110.00", "103": "95.00"},
        "ZJZ",
    )
    worker = person("zjz-worker", "13500000001", "网格专业力量", Role.COMMUNITY_WORKER, community)
    secretary = person("zjz-secretary", "13500000002", "书记", Role.SECRETARY, community)
    property_manager = person("zjz-pm", "13500000003", "丽都物业", Role.PROPERTY_MANAGER, estate)
    resident = person("zjz-resident", "13500000011", "居民老周", Role.RESIDENT, homes["101"])
    category = Category.objects.filter(code="drain_blocked").first() or category_save(
        actor=None,
        category=Category(
            code="drain_blocked", name="下水道堵塞", group="repair", lead_role="property_manager"
        ),
    )
    # A resident reports from home, or about the estate and its buildings.
    cases = [
        case_report(
            actor=resident,
            place=place,
            category=category,
            text=text,
            channel=Channel.RESIDENT_PAGE,
        )
        for place, text in (
            (estate, "小区门口污水漫到人行道"),
            (homes["101"].parent, "门口下水道又反水了，臭味很大"),
            (homes["101"], "大门口积水是污水，孩子上学要绕行"),
        )
    ]
    return {
        "community": community,
        "estate": estate,
        "worker": worker,
        "secretary": secretary,
        "property": property_manager,
        "resident": resident,
        "cases": cases,
    }


def test_story_4_a_drain_line_funded_by_three_sources_adding_up_exactly(
    page, phone_page, page_log, login, zjz, shots
):
    sign_in(login, page, "zjz-worker")
    page.goto(reverse("deliberation:topics"))
    suggestion = page.locator("details.suggestion").filter(has_text="国际丽都城 · 下水道堵塞")
    expect(suggestion).to_contain_text("3 件未办结诉求")
    page.screenshot(path=shots / "deliberation-topics-1280.png", full_page=True)
    suggestion.locator("summary").click()
    suggestion.get_by_role("textbox", name="议题", exact=True).fill(
        "张家宅门口污水外溢，需新建排水管"
    )
    suggestion.get_by_label("转议题说明（告知反映人）").fill("需新建排水管，转议题由各方共商出资")
    suggestion.get_by_role("button", name="转为议题").click()
    expect(page.locator(".messages")).to_contain_text("已把 3 件诉求转为议题")
    expect(page.locator("h1")).to_have_text("张家宅门口污水外溢，需新建排水管")
    topic = Topic.objects.get()
    assert all(c.state == "to_topic" for c in Case.objects.all())

    for button in ("进入共商共议", "进入方案制定"):
        page.locator("form.action").filter(has=page.get_by_role("button", name=button)).get_by_role(
            "button", name=button
        ).click()
        expect(page.locator(".messages")).to_contain_text("已" + button)
    expect(page.locator(".loop .step.current")).to_contain_text("方案制定")

    page.get_by_role("link", name="拟订方案").click()
    page.get_by_label("方案名称").fill("国际丽都城门口新建排水管")
    page.get_by_label("方案内容").fill("门口新建 DN300 排水管 60 米，接入市政管网")
    page.get_by_label("总造价（元）").fill("180000.00")
    page.get_by_role("button", name="保存方案").click()

    # A split that does not add up is refused on the page, and nothing typed is lost.
    page.locator("details.edit").first.locator("summary").click()
    page.get_by_label("政府补贴（元）").fill("100000")
    page.get_by_label("维修资金（元）").fill("50000")
    page.get_by_label("沿街商铺（元）").fill("20000")
    page.get_by_label("沿街商铺说明").fill("门口 14 家商铺分摊")
    page.get_by_role("button", name="保存出资").click()
    error = page.locator(".form-error")
    expect(error).to_contain_text(
        "各出资来源合计 170,000.00 元，与方案总造价 180,000.00 元 不一致，还差 10,000.00 元。"
    )
    expect(page.get_by_label("政府补贴（元）")).to_have_value("100000")
    expect(page.get_by_label("沿街商铺说明")).to_have_value("门口 14 家商铺分摊")
    page.screenshot(path=shots / "deliberation-funding-refused-1280.png", full_page=True)
    assert not Plan.objects.get().funding.exists()

    page.get_by_label("维修资金（元）").fill("60000")
    page.get_by_role("button", name="保存出资").click()
    expect(page.locator(".messages")).to_contain_text("出资已保存")
    table = page.locator(".funding-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("政府补贴")
    expect(table).to_contain_text("100,000.00")
    expect(table).to_contain_text("55.56%")
    expect(table).to_contain_text("维修资金")
    expect(table).to_contain_text("33.33%")
    expect(table).to_contain_text("沿街商铺")
    expect(table).to_contain_text("11.11%")
    expect(table.locator("tfoot")).to_contain_text("180,000.00")
    expect(page.locator("[data-funding-chart] canvas")).to_have_count(1)
    page.screenshot(path=shots / "deliberation-plan-1280.png", full_page=True)

    page.get_by_label("通过说明（如会议决议）").fill("专家联席会一致同意")
    page.get_by_role("button", name="通过方案，进入实施").click()
    expect(page.locator(".messages")).to_contain_text("方案已通过")
    plan = Plan.objects.get()

    sign_in(login, page, "zjz-pm")
    page.goto(reverse("deliberation:plan", args=[plan.pk]))
    adder = page.locator("details.edit").filter(has_text="添加节点")
    adder.locator("summary").click()
    adder.get_by_label("节点名称").fill("开挖铺设排水管")
    adder.get_by_label("计划开始").fill("2026-04-01")
    adder.get_by_label("计划完成").fill("2026-04-20")
    adder.get_by_role("button", name="添加").click()
    page.get_by_role("link", name="查看实施进度").click()
    card = page.locator("li.milestone").first
    card.locator("summary").click()
    card.get_by_label("状态").select_option(label="已完成")
    card.get_by_label("进度（%）").fill("100")
    card.get_by_label("成果").fill("新排水管通水，门口不再反水")
    card.get_by_role("button", name="保存进展").click()
    expect(page.locator(".messages")).to_contain_text("进展已更新")

    sign_in(login, page, "zjz-worker")
    page.goto(reverse("deliberation:implementation", args=[plan.pk]))
    page.get_by_label("验收说明").fill("已验收，雨天无积水")
    page.get_by_role("button", name="方案实施完成，发布反馈问卷").click()
    expect(page.locator(".messages")).to_contain_text("相关诉求已关闭并告知反映人")
    assert sorted(Case.objects.values_list("state", flat=True)) == ["closed"] * 3
    assert Notification.objects.filter(recipient=zjz["resident"], verb="case.closed").count() == 3
    assert Topic.objects.get(pk=topic.pk).state == TopicState.FEEDBACK

    sign_in(login, phone_page, "zjz-resident")
    phone_page.goto(reverse("deliberation:topic", args=[topic.pk]))
    expect(phone_page.locator(".loop .step.current")).to_contain_text("反馈收集")
    expect(phone_page.locator(".loop .step.skipped")).to_contain_text("无需表决")
    phone_page.screenshot(path=shots / "deliberation-story4-topic-375.png", full_page=True)
    phone_page.goto(reverse("deliberation:plan", args=[plan.pk]))
    expect(phone_page.locator(".funding-table")).to_contain_text("11.11%")
    phone_page.screenshot(path=shots / "deliberation-plan-375.png", full_page=True)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375

    no_browser_errors(page_log)
