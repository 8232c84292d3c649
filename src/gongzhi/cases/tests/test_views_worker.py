"""The worker pages through the Django test client: the inbox (order, countdowns, filters,
query count), the case page and each of its actions, photos, and the fast entry."""

import re
from datetime import timedelta

import pytest
import time_machine
from django import forms
from django.template import Context, Template
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.accounts.models import PersonalDataAccess
from gongzhi.cases.forms_worker import InboxFilterForm
from gongzhi.cases.models import Case, CaseHandler, CasePhoto, RateExclusion
from gongzhi.cases.services import (
    case_complete,
    case_pause,
    case_photos_add,
    case_respond,
    case_start,
    case_transfer,
)
from gongzhi.cases.templatetags.inbox_rows import case_links
from gongzhi.cases.views.worker import InboxRow, countdown_for, duration_text
from gongzhi.core.clocks import ClockKind
from gongzhi.core.workdays import clock_context_for
from gongzhi.places.models import Place, PlaceKind

from .conftest import at, png

INBOX = reverse("cases_worker:inbox")
NEW = reverse("cases_worker:new")
HTMX = {"HTTP_HX_REQUEST": "true"}


def page(client, user, url, **kwargs):
    client.force_login(user)
    return client.get(url, **kwargs)


def case_url(case):
    return reverse("cases_worker:case", args=[case.number])


def act(client, user, case, action, data=None, *, version=None, **kwargs):
    """Post one action's form as the page would: its prefixed fields and the version."""
    client.force_login(user)
    fields = {f"{action}-{k}": v for k, v in (data or {}).items()}
    fields[f"{action}-version"] = version if version is not None else fresh(case).version
    url = reverse("cases_worker:action", args=[case.number, action])
    return client.post(url, fields, **kwargs)


def fresh(case):
    return Case.objects.get(pk=case.pk)


def text(response):
    return response.content.decode()


def numbers_in(html):
    return re.findall(r"HQXC-\d{8}-\d{4}", html)


# --- countdowns (pure) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0, "不到 1 分钟"),
        (12, "12 分钟"),
        (60, "1 小时"),
        (65, "1 小时 5 分"),
        (24 * 60, "1 天"),
        (27 * 60 + 30, "1 天 3 小时"),
    ],
)
def test_durations_read_the_way_a_worker_says_them(minutes, words):
    assert duration_text(timedelta(minutes=minutes)) == words


CALENDAR = clock_context_for(None)


def unsaved_case(**fields):
    start = at(2026, 11, 27, 9, 0)
    values = {
        "state": "reported",
        "reported_at": start,
        "response_clock": ClockKind.CALENDAR,
        "response_target": timedelta(minutes=15),
        "response_due_at": start + timedelta(minutes=15),
        "completion_clock": ClockKind.CALENDAR,
        "completion_target": timedelta(hours=24),
        "completion_due_at": start + timedelta(hours=24),
    }
    return Case(**(values | fields))


@given(elapsed=st.integers(min_value=0, max_value=60 * 60 * 3))
def test_the_colour_and_the_words_follow_the_share_of_the_target_used(elapsed):
    case = unsaved_case()
    now = case.reported_at + timedelta(seconds=elapsed)
    countdown = countdown_for(case, now=now, ctx=CALENDAR)
    share = elapsed / (15 * 60)
    if share >= 1:
        assert countdown.level == "overdue" and countdown.text.startswith("已超时")
        assert countdown.percent == 100
    elif share >= 0.8:
        assert countdown.level == "warn" and countdown.text.startswith("即将超时，剩余")
    else:
        assert countdown.level == "ok" and countdown.text.startswith("剩余")
    assert countdown.clock_label == "响应"


def test_a_responded_case_counts_down_to_completion_and_a_paused_one_stops():
    start = at(2026, 11, 27, 9, 0)
    responded = unsaved_case(state="responded", responded_at=start)
    countdown = countdown_for(responded, now=start + timedelta(hours=20), ctx=CALENDAR)
    assert (countdown.clock_label, countdown.level, countdown.text) == (
        "办结",
        "warn",
        "即将超时，剩余 4 小时",
    )
    paused = unsaved_case(state="paused", paused_at=start + timedelta(hours=6))
    countdown = countdown_for(paused, now=start + timedelta(hours=30), ctx=CALENDAR)
    assert (countdown.level, countdown.text, countdown.percent) == (
        "paused",
        "挂起中，办结计时暂停",
        25,
    )
    assert countdown_for(unsaved_case(state="closed"), now=start, ctx=CALENDAR).level == "none"


def test_a_service_hours_target_does_not_run_at_night():
    """Reported at 23:00 on a 15-minute service-hours response: the next morning at 07:00
    nothing of the target is used yet, though the deadline is only 1 h 15 min away."""
    night = at(2026, 11, 26, 23, 0)
    case = unsaved_case(
        reported_at=night,
        response_clock=ClockKind.SERVICE_HOURS,
        response_due_at=at(2026, 11, 27, 8, 15),
    )
    countdown = countdown_for(case, now=at(2026, 11, 27, 7, 0), ctx=CALENDAR)
    assert (countdown.level, countdown.percent, countdown.text) == ("ok", 0, "剩余 1 小时 15 分")
    countdown = countdown_for(case, now=at(2026, 11, 27, 8, 13), ctx=CALENDAR)
    assert (countdown.level, countdown.text) == ("warn", "即将超时，剩余 2 分钟")


# --- inbox ------------------------------------------------------------------------------


def test_the_inbox_is_ordered_by_the_nearest_deadline_with_coloured_labels(client, report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        first = report(text="1号楼路灯不亮")  # response due 09:15
        clock.move_to(at(2026, 11, 27, 9, 10))
        second = report(text="1号楼楼道灯也坏了")  # response due 09:25
        clock.move_to(at(2026, 11, 27, 9, 13))
        html = text(page(client, people["grid_worker"], INBOX))
        assert numbers_in(html)[::2] == [first.number, second.number]
        rows = html.split("<tr class=")[1:]
        assert rows[0].startswith('"level-warn"') and "即将超时，剩余 2 分钟" in rows[0]
        assert "▲" in rows[0] and 'value="87"' in rows[0]
        assert rows[1].startswith('"level-ok"') and "剩余 12 分钟" in rows[1]
        assert "截止 <time" in rows[1] and "11-27 09:25" in rows[1]

        clock.move_to(at(2026, 11, 27, 10, 20))
        html = text(page(client, people["grid_worker"], INBOX))
        assert "已超时 1 小时 5 分" in html and "■" in html and "level-overdue" in html


def test_a_deadline_past_the_published_holidays_is_marked_estimated(client, report, people):
    with time_machine.travel(at(2031, 3, 3, 9, 0), tick=False):
        case = report("drain_blocked", text="下水道堵了")
        case_respond(actor=people["property"], case=case)
        html = text(page(client, people["property"], INBOX))
    assert fresh(case).completion_due_estimated
    assert '<abbr title="节假日安排尚未公布，按周一至周五估算">约</abbr>' in html


def test_the_htmx_refresh_returns_the_table_alone_with_its_filters(client, report, people):
    report()
    response = page(client, people["worker"], INBOX + "?overdue=on", **HTMX)
    html = text(response)
    assert html.lstrip().startswith('<section id="inbox-table"')
    assert 'hx-trigger="every 30s, refresh"' in html
    assert 'hx-get="/work/?overdue=on"' in html
    assert "<html" not in html


def test_an_inbox_row_names_its_lead_or_says_there_is_none_and_escapes_what_was_typed():
    led = unsaved_case(number="HQXC-20261127-0001")
    alone = unsaved_case(number="HQXC-20261127-0002")
    now = at(2026, 11, 27, 9, 5)
    rows = [
        InboxRow(
            number=case.number,
            category="路灯<不亮>",
            place=place,
            state=case.state,
            state_label="已上报",
            lead=lead,
            countdown=countdown_for(case, now=now, ctx=CALENDAR),
        )
        for case, place, lead in ((led, "1号楼 & 2号楼", "王<伟>"), (alone, "甲苑 1号楼", None))
    ]
    html = Template(
        "{% load inbox_rows %}{% inbox_rows rows '编号' '类别' '地点' '状态' '主办人' '时限' %}"
    ).render(Context({"rows": rows}))
    first, second = html.split("<tr ")[1:]
    assert first.startswith('class="level-ok">')
    assert '<a href="/work/cases/HQXC-20261127-0001/">HQXC-20261127-0001</a>' in first
    assert '<td data-label="类别">路灯&lt;不亮&gt;</td>' in first
    assert '<td data-label="地点">1号楼 &amp; 2号楼</td>' in first
    assert '<td data-label="地点">甲苑 1号楼</td>' in second
    assert '<span class="state state-reported">已上报</span>' in first
    assert '<td data-label="主办人">王&lt;伟&gt;</td>' in first
    assert '<td data-label="主办人"><span class="muted">未分派</span></td>' in second
    assert '<td data-label="时限"><div class="countdown countdown-ok">' in first


def test_an_inbox_row_shows_the_path_below_the_community_the_state_and_the_lead(
    client, report, people, tree
):
    led = report(text="1号楼路灯不亮")
    case_respond(actor=people["worker"], case=led)
    at_building = report(place=tree["building_2"], text="2号楼门口路灯不亮")
    html = text(page(client, people["worker"], INBOX))
    rows = {number: row for row in html.split("<tr ")[1:] for number in numbers_in(row)}
    first, second = rows[led.number], rows[at_building.number]
    assert '<td data-label="地点">虹桥新城小区 1号楼 1单元 101室</td>' in first
    assert '<span class="state state-responded">已响应</span>' in first
    assert '<td data-label="主办人">worker</td>' in first
    assert '<td data-label="时限"><div class="countdown countdown-ok">' in first
    assert '<td data-label="地点">虹桥新城小区 2号楼</td>' in second
    routed = fresh(at_building).lead
    assert (
        f'<td data-label="主办人">{routed.display_name}</td>'
        if routed
        else '<td data-label="主办人"><span class="muted">未分派</span></td>'
    ) in second


@pytest.mark.parametrize("number", ["HQXC-20261127-0001", "C0001 20261127-0001", "甲%1?#"])
def test_an_inbox_row_links_its_case_as_reverse_would(number):
    assert case_links()(number) == reverse("cases_worker:case", args=[number])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"place": "<b>\"&'", "mine": "on", "overdue": "on", "reported_from": "2026-11-01"},
        {"state": "all", "area": "p:甲<1>"},
    ],
)
def test_the_inbox_filters_write_their_inputs_as_django_would(data):
    community = Place(code="甲<1>", name="甲&乙居民区", kind=PlaceKind.COMMUNITY)
    form = InboxFilterForm(data, communities=[community])
    form.is_valid()
    stock = {
        "place": forms.TextInput,
        "mine": forms.CheckboxInput,
        "overdue": forms.CheckboxInput,
        "reported_from": forms.DateInput,
        "reported_to": forms.DateInput,
    }
    for name, widget in stock.items():
        ours = form.fields[name].widget
        django_wrote = form[name].as_widget(
            widget=widget(attrs={"type": ours.input_type, **ours.attrs})
        )
        assert str(form[name]) == django_wrote
    assert form["mine"].widget_type == "checkbox"
    # the selects as Django's, but for the line breaks between the options
    for name in ("state", "category", "area"):
        django_wrote = form[name].as_widget(widget=forms.Select(choices=form.fields[name].choices))
        assert str(form[name]).replace("\n", "") == re.sub(r">\s+<", "><", django_wrote)


@pytest.fixture
def spread(report, people, tree):
    """Cases over two days, two buildings (two grids), two categories and two states."""
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        light = report(text="1号楼路灯不亮")
        litter = report("litter", place=tree["dwelling_201"], text="2号楼垃圾堆放")
        clock.move_to(at(2026, 11, 28, 9, 0))
        late = report(text="1号楼又一盏路灯不亮")
        case_respond(actor=people["grid_worker"], case=late)
        done = report(text="1号楼第三盏路灯")
        case_respond(actor=people["grid_worker"], case=done)
        case_start(actor=people["grid_worker"], case=fresh(done))
        case_complete(actor=people["grid_worker"], case=fresh(done), note="已更换灯泡")
    return {"light": light, "litter": litter, "late": late, "done": done}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"light", "litter", "late"}),  # open cases by default
        ("?state=completed", {"done"}),
        ("?state=all", {"light", "litter", "late", "done"}),
        ("?state=responded", {"late"}),
        ("?state=all&category={litter}", {"litter"}),
        ("?area=g:{grid_2}", {"litter"}),
        ("?area=p:{community}", {"light", "litter", "late"}),
        ("?place=2号楼", {"litter"}),
        ("?place=1号楼101", {"light", "late"}),
        ("?mine=on", {"light", "late"}),
        ("?overdue=on", {"light", "litter"}),
        ("?reported_from=2026-11-28&reported_to=2026-11-28", {"late"}),
        ("?state=all&reported_to=2026-11-27", {"light", "litter"}),
    ],
)
def test_inbox_filters(client, spread, people, tree, category, query, expected):
    query = query.format(
        litter=category["litter"].pk, grid_2=tree["grid_2"].pk, community=tree["community"].code
    )
    # the grid worker leads every case of building 1 (and sees only those)
    user = people["grid_worker"] if "mine" in query else people["worker"]
    with time_machine.travel(at(2026, 11, 28, 9, 30), tick=False):
        html = text(page(client, user, INBOX + query))
    shown = set(numbers_in(html))
    assert shown == {spread[k].number for k in expected}


def test_the_inbox_filters_keep_what_was_chosen(client, spread, people, tree, category):
    query = f"?state=all&category={category['litter'].pk}&area=g:{tree['grid_2'].pk}"
    html = text(page(client, people["worker"], INBOX + query))
    # the header's language first, then the filters
    chosen = re.findall(r'<option value="([^"]*)" selected>', html)
    assert chosen == ["zh-hans", "all", str(category["litter"].pk), f"g:{tree['grid_2'].pk}"]
    # every community and grid the worker reaches is offered, each once
    assert html.count(f'<option value="p:{tree["community"].code}"') == 1
    assert html.count(f'<option value="g:{tree["grid"].pk}"') == 1


def test_mine_shows_only_the_cases_one_handles(client, spread, people):
    # building 2's grid has no worker of its own: its litter case fell back to the
    # community worker, who sees every case of the community but handles only that one
    html = text(page(client, people["worker"], INBOX + "?mine=on"))
    assert numbers_in(html)[::2] == [spread["litter"].number]
    html = text(page(client, people["secretary"], INBOX + "?mine=on"))
    assert numbers_in(html) == [] and "没有符合条件的诉求" in html


def test_a_bad_date_range_is_explained(client, spread, people):
    html = text(
        page(client, people["worker"], INBOX + "?reported_from=2026-11-28&reported_to=2026-11-27")
    )
    assert "结束日期不能早于开始日期" in html


def test_an_unknown_place_filter_says_so(client, spread, people):
    html = text(page(client, people["worker"], INBOX + "?place=99号楼"))
    assert "没有找到地点“99号楼”" in html and numbers_in(html) == []


def test_the_inbox_pages_through_many_cases(client, report, people):
    for n in range(27):
        report(text=f"路灯 {n} 不亮")
    html = text(page(client, people["worker"], INBOX))
    assert len(set(numbers_in(html))) == 25 and "第 1 / 2 页" in html
    html = text(page(client, people["worker"], INBOX + "?page=2"))
    assert len(set(numbers_in(html))) == 2 and "共 27 件" in html and "第 2 / 2 页" in html


@pytest.mark.parametrize(
    ("asked", "shown", "rows"),
    [("9", 2, 2), ("0", 2, 2), ("-1", 2, 2), ("二", 1, 25), ("", 1, 25), ("2.0", 1, 25)],
)
def test_a_page_out_of_range_shows_the_last_and_a_word_the_first(
    client, report, people, asked, shown, rows
):
    for n in range(27):
        report(text=f"路灯 {n} 不亮")
    html = text(page(client, people["worker"], INBOX + f"?page={asked}"))
    assert f"第 {shown} / 2 页" in html and "共 27 件" in html
    assert len(set(numbers_in(html))) == rows


def test_an_empty_inbox_is_one_page_of_none(client, people):
    html = text(page(client, people["worker"], INBOX + "?page=3"))
    assert "共 0 件" in html and numbers_in(html) == []


def test_the_inbox_query_count_does_not_grow_with_the_rows(
    client, report, people, tree, category, django_assert_max_num_queries
):
    client.force_login(people["worker"])
    report(text="一盏路灯")
    # The whole page: the area filter's communities and grids in one, the page's ids with
    # their total, their rows, and the header's entry links (places and clusters in one).
    with django_assert_max_num_queries(9):
        assert client.get(INBOX).status_code == 200
    for n in range(30):
        report(text=f"路灯 {n}", place=tree["dwelling_201"] if n % 2 else tree["dwelling"])
    with django_assert_max_num_queries(9):
        html = text(client.get(INBOX))
    assert len(set(numbers_in(html))) == 25
    # a grid worker's refresh, filtered by grid and category, stays within the bound too
    client.force_login(people["grid_worker"])
    with django_assert_max_num_queries(9):
        html = text(
            client.get(
                f"{INBOX}?area=g:{tree['grid'].pk}&category={category['street_light'].pk}", **HTMX
            )
        )
    assert len(set(numbers_in(html))) == 16


def test_the_inbox_is_for_staff_only(client, people):
    assert page(client, people["resident"], INBOX).status_code == 403
    client.logout()
    response = client.get(INBOX)
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


# --- the case page -------------------------------------------------------------------------


def test_the_case_page_shows_everything_about_the_case(client, report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        case = report("lift_trapped", text="电梯困人了", answers={"trapped_count": 2})
        html = text(page(client, people["property"], case_url(case)))
    assert case.number in html and "电梯困人" in html and "电梯困人了" in html
    assert "被困人数" in html and ">2<" in html
    assert "已上报" in html and "响应截止" in html and "办结截止" in html
    # the lead and the co-handler with their parts
    assert "主办" in html and "协办" in html and "协助办理：电梯困人" in html
    # the whole timeline for the handling side, routing included
    assert "分派" in html and "内部" in html


def test_an_out_of_scope_case_is_not_found(client, report, people, tree):
    case = report(place=tree["other_dwelling"], text="9号楼路灯不亮")
    assert page(client, people["worker"], case_url(case)).status_code == 404
    assert page(client, people["other_worker"], case_url(case)).status_code == 200
    assert act(client, people["worker"], case, "respond").status_code == 404


def test_the_reporters_phone_is_full_for_handlers_and_masked_for_other_staff(
    client, report, people
):
    case = report()
    handler_html = text(page(client, people["grid_worker"], case_url(case)))
    assert 'href="tel:13900000001"' in handler_html
    staff_html = text(page(client, people["worker"], case_url(case)))
    assert "139****0001" in staff_html and "13900000001" not in staff_html
    secretary_html = text(page(client, people["secretary"], case_url(case)))
    assert "13900000001" in secretary_html
    reads = PersonalDataAccess.objects.filter(subject=people["resident"], object_id=str(case.pk))
    assert {r.viewer.username for r in reads} == {"grid_worker", "worker", "secretary"}


def test_actions_are_offered_only_when_allowed(client, report, people):
    case = report()
    respond = reverse("cases_worker:action", args=[case.number, "respond"])
    assert respond in text(page(client, people["grid_worker"], case_url(case)))
    supervisor_html = text(page(client, people["supervisor"], case_url(case)))
    assert respond not in supervisor_html and "当前没有您可以执行的操作" not in supervisor_html
    response = act(client, people["supervisor"], case, "respond")
    assert response.status_code == 403 and "您不能对该诉求执行“响应接单”" in text(response)
    assert fresh(case).state == "reported"
    # a step the state graph does not allow is not offered either, and is refused
    complete = reverse("cases_worker:action", args=[case.number, "complete"])
    assert complete not in text(page(client, people["grid_worker"], case_url(case)))
    response = act(client, people["grid_worker"], case, "complete", {"note": "好了"})
    assert response.status_code == 403 and fresh(case).state == "reported"


def test_respond_start_pause_resume_complete_through_the_page(client, report, people):
    worker = people["grid_worker"]
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        case = report("flying_wire", text="1号楼有人飞线充电")
        response = act(client, worker, case, "respond", {"note": "马上到"})
        assert response.status_code == 302 and response["Location"] == case_url(case)
        case = fresh(case)
        assert case.state == "responded" and case.lead == worker
        assert "已响应：您已接单" in text(client.get(case_url(case)))

        assert act(client, worker, case, "start").status_code == 302
        case = fresh(case)
        assert case.state == "in_progress"

        response = act(client, worker, case, "pause", {"reason": ""})
        assert response.status_code == 422 and "这个字段是必填项" in text(response)
        act(client, worker, case, "pause", {"reason": "等居民下班回家"})
        case = fresh(case)
        assert case.state == "paused"
        html = text(client.get(case_url(case)))
        assert "挂起中，办结计时暂停" in html and "等居民下班回家" in html

        clock.move_to(at(2026, 11, 27, 11, 0))
        act(client, worker, case, "resume")
        case = fresh(case)
        assert case.state == "in_progress"
        assert "累计挂起" in text(client.get(case_url(case)))

        # 飞线充电 asks for a photo of the site
        response = act(client, worker, case, "complete", {"note": "已拆除飞线"})
        assert response.status_code == 422 and "须上传现场照片" in text(response)
        assert "已拆除飞线" in text(response)  # what was typed is kept
        response = act(
            client, worker, case, "complete", {"note": "已拆除飞线", "photos": png("site.png")}
        )
        assert response.status_code == 302
    case = fresh(case)
    assert case.state == "completed" and case.completion_note == "已拆除飞线"
    photo = CasePhoto.objects.get(case=case)
    assert reverse("cases_worker:photo", args=[photo.pk]) in text(client.get(case_url(case)))


def test_an_htmx_action_swaps_the_case_panel(client, report, people):
    case = report()
    response = act(client, people["grid_worker"], case, "respond", **HTMX)
    html = text(response)
    assert response.status_code == 200 and html.startswith('<div id="case-panel"')
    assert "已响应：您已接单" in html and "开始办理" in html


def test_a_stale_page_is_told_the_case_changed(client, report, people):
    case = report()
    stale = case.version
    case_respond(actor=people["worker"], case=case)
    response = act(
        client, people["grid_worker"], case, "respond", {"note": "我来"}, version=stale, **HTMX
    )
    html = text(response)
    assert response.status_code == 409
    assert "该诉求已被他人更新，当前状态为“已响应”" in html
    assert fresh(case).lead == people["worker"]


def test_a_stale_page_shows_the_case_as_it_is_now(client, report, people):
    worker = people["grid_worker"]
    case = report()
    case_respond(actor=worker, case=case)
    case = case_start(actor=worker, case=fresh(case))
    stale = case.version
    case_pause(actor=people["secretary"], case=case, reason="等配件")
    response = act(client, worker, case, "pause", {"reason": "另一个原因"}, version=stale)
    html = text(response)
    assert response.status_code == 409 and "当前状态为“挂起”" in html
    # pausing is no longer offered on a paused case; resuming is, at the new version
    assert f'name="resume-version" value="{fresh(case).version}"' in html


def test_decline_with_a_referral(client, report, people):
    case = report(text="小区外马路的路灯坏了")
    response = act(
        client,
        people["worker"],
        case,
        "decline",
        {"reason": "不属于本社区", "referral": "12345市民服务热线"},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.state, case.referral) == ("declined", "12345市民服务热线")


def test_merge_into_another_case_by_number(client, report, people, tree):
    first = report(text="1号楼路灯不亮")
    second = report(place=tree["dwelling_102"], text="1号楼门口路灯坏了")
    response = act(client, people["worker"], second, "merge", {"into": "HQXC-00000000-0000"})
    assert response.status_code == 422 and "找不到编号为 HQXC-00000000-0000 的诉求" in text(
        response
    )
    response = act(client, people["worker"], second, "merge", {"into": first.number.lower()})
    assert response.status_code == 302
    assert (fresh(second).state, fresh(second).merged_into) == ("merged", first)


def test_transfer_and_accept(client, report, people):
    case = report()
    response = act(
        client,
        people["grid_worker"],
        case,
        "transfer",
        {"to": people["worker"].pk, "reason": "需要社区协调"},
    )
    assert response.status_code == 302 and fresh(case).transfer_to == people["worker"]
    html = text(page(client, people["worker"], case_url(case)))
    assert "grid_worker 申请将该诉求移交给您：需要社区协调" in html
    response = act(client, people["worker"], fresh(case), "accept_transfer", {"decision": "accept"})
    assert response.status_code == 302 and fresh(case).lead == people["worker"]


def test_only_those_above_the_first_receiver_reassign_directly(client, report, people):
    case = report()
    assign = reverse("cases_worker:action", args=[case.number, "assign"])
    # the grid worker received it first: they may hand it over, not reassign it
    assert assign not in text(page(client, people["grid_leader"], case_url(case)))
    assert (
        act(client, people["grid_leader"], case, "assign", {"to": people["worker"].pk}).status_code
        == 403
    )
    assert assign in text(page(client, people["secretary"], case_url(case)))
    response = act(client, people["secretary"], case, "assign", {"to": people["worker"].pk})
    assert response.status_code == 302 and fresh(case).lead == people["worker"]
    html = text(client.get(case_url(case)))
    assert "已指派 worker 主办" in html
    assert re.search(r"主办</span>\s*<strong>worker</strong>", html)
    assert "（已不再经办）" in html  # the grid worker's row stays, as history


def test_refusing_a_transfer_needs_a_reason(client, report, people):
    case = report()
    case = case_transfer(
        actor=people["grid_worker"], case=case, to=people["worker"], reason="请协调"
    )
    response = act(client, people["worker"], case, "accept_transfer", {"decision": "refuse"})
    assert response.status_code == 422 and "请说明不接收的原因" in text(response)
    act(
        client,
        people["worker"],
        case,
        "accept_transfer",
        {"decision": "refuse", "reason": "不归我管"},
    )
    assert (fresh(case).lead, fresh(case).transfer_to) == (people["grid_worker"], None)


def test_add_a_co_handler_and_update_their_part(client, report, people):
    case = report()
    response = act(
        client,
        people["grid_worker"],
        case,
        "add_co_handler",
        {"to": people["property"].pk, "task": "物业更换灯具"},
    )
    assert response.status_code == 302
    helper = CaseHandler.objects.get(case=case, user=people["property"], is_active=True)
    assert helper.task == "物业更换灯具"
    client.force_login(people["property"])
    response = client.post(
        reverse("cases_worker:handler_update", args=[case.number]),
        {
            "handler-version": fresh(case).version,
            "handler-handler": helper.pk,
            "handler-status": "done",
            "handler-note": "灯具已换",
        },
    )
    assert response.status_code == 302
    helper.refresh_from_db()
    assert (helper.status, helper.note) == ("done", "灯具已换")


def test_a_follow_up_call_by_someone_other_than_the_handler_closes_it(client, report, people):
    worker = people["grid_worker"]
    case = report()
    case_respond(actor=worker, case=case)
    case_start(actor=worker, case=fresh(case))
    case = case_complete(actor=worker, case=fresh(case), note="灯泡已换")
    follow_up = reverse("cases_worker:action", args=[case.number, "follow_up"])
    assert follow_up not in text(page(client, worker, case_url(case)))
    response = act(
        client,
        people["worker"],
        case,
        "follow_up",
        {"resolved": "yes", "satisfaction": "satisfied", "method": "phone", "note": "居民说亮了"},
    )
    assert response.status_code == 302
    assert fresh(case).state == "closed"
    assert "电话回访 · 已回访：已解决，满意" in text(client.get(case_url(case)))


def test_to_topic_and_exclusion_from_the_rates(client, report, people):
    case = report("parking_shortage", text="小区停车太难了")
    response = act(client, people["worker"], case, "to_topic", {"note": "需要业委会和物业共同商议"})
    assert response.status_code == 302 and fresh(case).state == "to_topic"
    exclude = reverse("cases_worker:action", args=[case.number, "exclude_from_rates"])
    assert exclude not in text(page(client, people["worker"], case_url(case)))
    assert (
        act(client, people["worker"], case, "exclude_from_rates", {"reason": "测试"}).status_code
        == 403
    )
    html = text(page(client, people["secretary"], case_url(case)))
    assert exclude in html
    response = act(client, people["secretary"], case, "exclude_from_rates", {"reason": "测试数据"})
    assert response.status_code == 302
    assert RateExclusion.objects.get(case=case).reason == "测试数据"
    html = text(client.get(case_url(case)))
    assert exclude not in html and "测试数据" in html


def test_an_unknown_action_is_not_found(client, report, people):
    case = report()
    assert act(client, people["worker"], case, "explode").status_code == 404


# --- photos --------------------------------------------------------------------------


def test_photos_only_for_those_who_see_the_case(client, report, people):
    case = report(photos=[png("lamp.png")])
    url = reverse("cases_worker:photo", args=[CasePhoto.objects.get(case=case).pk])
    response = page(client, people["grid_worker"], url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert page(client, people["resident"], url).status_code == 200  # the reporter
    assert page(client, people["other_worker"], url).status_code == 404
    assert page(client, people["property"], url).status_code == 404
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    assert (
        page(client, people["admin"], reverse("cases_worker:photo", args=[999999])).status_code
        == 404
    )


def test_the_case_page_shows_each_kind_of_photo_under_its_heading(client, report, people):
    case = report(photos=[png("lamp.png")])
    case = case_respond(actor=people["grid_worker"], case=case)
    case = case_start(actor=people["grid_worker"], case=case)
    [progress] = case_photos_add(actor=people["grid_worker"], case=case, photos=[png("w.png")])
    html = text(page(client, people["worker"], case_url(case)))
    assert "上报照片" in html and "办理照片" in html
    assert reverse("cases_worker:photo", args=[progress.pk]) in html
    assert "补充了 1 张办理照片" in html


# --- fast entry ----------------------------------------------------------------------


def entry(client, user, **fields):
    client.force_login(user)
    data = {"channel": "phone", "idempotency_key": "", "reporter": ""} | fields
    return client.post(NEW, data)


def test_the_entry_form_is_keyboard_friendly(client, people):
    html = text(page(client, people["worker"], NEW + "?channel=walk_in"))
    assert re.search(r'name="place_query"[^>]*autofocus', html, re.S)
    for key in ('accesskey="p"', 'accesskey="c"', 'accesskey="t"', 'accesskey="s"'):
        assert key in html
    assert 'value="walk_in"' in re.search(r'<input[^>]*value="walk_in"[^>]*>', html).group(0)
    assert "checked" in re.search(r'<input[^>]*value="walk_in"[^>]*>', html).group(0)
    assert 'hx-trigger="keyup changed delay:400ms from:#id_text' in html


def test_a_phone_call_is_entered_for_a_caller_without_an_account(client, people, tree, category):
    response = entry(
        client,
        people["worker"],
        place_query="1号楼101",
        category=category["street_light"].pk,
        text="楼下路灯不亮",
        contact_name="王阿姨",
        contact_phone="13912345678",
        idempotency_key="k1",
    )
    case = Case.objects.get()
    assert (case.channel, case.place, case.reporter, case.contact_name) == (
        "phone",
        tree["dwelling"],
        None,
        "王阿姨",
    )
    assert response.status_code == 302
    assert response["Location"] == f"{NEW}?channel=phone&saved={case.number}"
    html = text(client.get(response["Location"]))
    assert f"已登记 {case.number}（路灯不亮）" in html and "再录一条" in html
    # the form is cleared, the channel kept
    assert "楼下路灯不亮" not in html and 'name="place_query" id="id_place_query" value=""' in html
    # sending the same form again (Enter pressed twice) makes no second case
    entry(
        client,
        people["worker"],
        place_query="1号楼101",
        category=category["street_light"].pk,
        text="楼下路灯不亮",
        contact_name="王阿姨",
        idempotency_key="k1",
    )
    assert Case.objects.count() == 1


def test_a_reception_day_case_reported_on_a_residents_behalf(client, people, tree, category):
    places = page(
        client, people["worker"], reverse("cases_worker:entry_places") + "?place_query=1号楼101"
    )
    html = text(places)
    assert tree["dwelling"].code in html and "checked" in html
    assert 'id="reporters" hx-swap-oob="true"' in html and "resident" in html
    assert "139****0001" in html  # a community worker sees the number masked
    response = entry(
        client,
        people["worker"],
        channel="reception_day",
        place=tree["dwelling"].code,
        category=category["litter"].pk,
        text="楼下垃圾没人清",
        reporter=people["resident"].pk,
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.channel, case.reporter, case.entered_by) == (
        "reception_day",
        people["resident"],
        people["worker"],
    )


def test_entry_mistakes_are_explained_and_nothing_typed_is_lost(client, people, tree, category):
    response = entry(
        client,
        people["worker"],
        place_query="1单元",
        category=category["lift_trapped"].pk,
        text="电梯里有人被困",
    )
    html = text(response)
    assert response.status_code == 422 and not Case.objects.exists()
    assert "匹配到多个地点，请从候选中选择一个" in html
    assert tree["entrance"].code in html and tree["entrance_2"].code in html
    assert "请填写反映人的姓名或联系电话" in html
    assert "电梯里有人被困" in html and 'name="answer_trapped_count"' in html
    response = entry(
        client,
        people["worker"],
        place=tree["entrance"].code,
        category=category["lift_trapped"].pk,
        text="电梯里有人被困",
        contact_phone="13912345678",
    )
    assert response.status_code == 422 and "请回答：被困人数" in text(response)
    response = entry(
        client,
        people["worker"],
        place=tree["entrance"].code,
        category=category["lift_trapped"].pk,
        text="电梯里有人被困",
        contact_phone="13912345678",
        answer_trapped_count="2",
    )
    assert response.status_code == 302 and Case.objects.get().answers == {"trapped_count": 2}


def test_entry_outside_ones_area_is_refused(client, people, tree, category):
    response = entry(
        client,
        people["supervisor"],
        place=tree["dwelling"].code,
        category=category["litter"].pk,
        text="垃圾",
        contact_name="张先生",
    )
    assert response.status_code == 403  # supervisors read and supervise; they do not enter
    response = entry(
        client,
        people["worker"],
        place=tree["other_dwelling"].code,
        category=category["litter"].pk,
        text="垃圾",
        contact_name="张先生",
    )
    assert response.status_code == 422 and "找不到该地点" in text(response)


def test_duplicates_are_suggested_while_typing(client, report, people, tree, category):
    existing = report(text="1号楼门口的路灯不亮了，晚上很黑")
    url = reverse("cases_worker:entry_duplicates")
    client.force_login(people["worker"])
    html = text(
        client.get(
            url,
            {
                "place": tree["dwelling_102"].code,
                "category": category["street_light"].pk,
                "text": "1号楼门口路灯坏了不亮",
            },
            **HTMX,
        )
    )
    assert existing.number in html and "可能是同一问题" in html
    html = text(
        client.get(
            url,
            {"place_query": "2号楼", "category": category["street_light"].pk, "text": "路灯不亮"},
            **HTMX,
        )
    )
    assert existing.number not in html


def test_the_questions_follow_the_category(client, people, category):
    html = text(
        page(
            client,
            people["worker"],
            reverse("cases_worker:entry_questions") + f"?category={category['noise'].pk}",
        )
    )
    assert "噪音时段" in html and "夜间（22:00—次日6:00）" in html
