"""The pages, through the test client: what a person clicking through would see."""

import pytest
from django.urls import reverse

from gongzhi.accounts.models import (
    LoginFailure,
    OtpPurpose,
    PersonalDataAccess,
    Relation,
    Residency,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
)
from gongzhi.accounts.services import (
    residency_claim,
    resident_from_roster,
    resident_register,
)

from .conftest import last_code_sent_to

PASSWORD = "pw-Example-2026"
NEW_PHONE = "13700001111"
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in_user(client):
    return client.session.get("_auth_user_id")


# --- sign-in ----------------------------------------------------------------------------


def test_login_page_is_chinese_with_two_tabs(client, db):
    page = client.get(reverse("accounts:login"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "密码登录" in text and "验证码登录" in text
    assert 'action="/accounts/login/"' in text
    code_tab = client.get(reverse("accounts:login") + "?tab=code").content.decode()
    assert 'action="/accounts/login/code/"' in code_tab
    assert "获取验证码" in code_tab


def test_login_page_in_english_after_switching_language(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    text = client.get(reverse("accounts:login")).content.decode()
    assert "Sign in" in text
    assert "密码登录" not in text


@pytest.mark.parametrize("identifier", ["worker", "13800000003"])
def test_login_by_username_or_phone(client, people, identifier):
    response = client.post(
        reverse("accounts:login"), {"identifier": identifier, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user(client) == str(people["worker"].pk)


def test_wrong_password_says_so_in_chinese(client, people):
    response = client.post(reverse("accounts:login"), {"identifier": "worker", "password": "x"})
    assert response.status_code == 200
    assert "账号或密码错误。" in response.content.decode()
    assert signed_in_user(client) is None
    assert LoginFailure.objects.get().ip_address == "127.0.0.1"


def test_too_many_failures_answer_429_with_a_clear_message(client, people):
    for _ in range(5):
        client.post(reverse("accounts:login"), {"identifier": "worker", "password": "x"})
    response = client.post(
        reverse("accounts:login"), {"identifier": "worker", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert signed_in_user(client) is None


def test_login_goes_to_next_but_never_off_site(client, people):
    ok = client.post(
        reverse("accounts:login") + "?next=/accounts/password/",
        {"identifier": "worker", "password": PASSWORD, "next": "/accounts/password/"},
    )
    assert ok.url == "/accounts/password/"
    client.logout()
    evil = client.post(
        reverse("accounts:login"),
        {"identifier": "worker", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert evil.url == reverse("home")


def test_pages_need_sign_in(client, db):
    for name in ("home", "accounts:claim", "accounts:verification_queue"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_logout_only_by_post(client, people):
    client.force_login(people["worker"])
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert signed_in_user(client) is not None
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert signed_in_user(client) is None


def test_sign_in_with_a_code(client, people, django_capture_on_commit_callbacks):
    phone = people["resident"].phone
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            reverse("accounts:otp_request"), {"phone": phone, "purpose": "login"}, **HTMX
        )
    assert "验证码已发送至 139****0001" in sent.content.decode()

    response = client.post(
        reverse("accounts:otp_login"), {"phone": phone, "code": last_code_sent_to(phone)}
    )
    assert response.status_code == 302
    assert signed_in_user(client) == str(people["resident"].pk)


def test_a_wrong_code_is_shown_on_the_code_tab(client, people, code_for):
    phone = people["resident"].phone
    code_for(phone, OtpPurpose.LOGIN)
    response = client.post(reverse("accounts:otp_login"), {"phone": phone, "code": "00000x"})
    text = response.content.decode()
    assert "验证码错误，还可以再试 4 次。" in text
    assert 'action="/accounts/login/code/"' in text


def test_asking_for_codes_too_fast(client, people, django_capture_on_commit_callbacks):
    phone = people["resident"].phone
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:otp_request"), {"phone": phone, "purpose": "login"}, **HTMX)
        again = client.post(
            reverse("accounts:otp_request"), {"phone": phone, "purpose": "login"}, **HTMX
        )
    assert "秒后再重新获取" in again.content.decode()


def test_asking_for_a_code_without_htmx_goes_back_to_the_page(client, people, code_for):
    response = client.post(
        reverse("accounts:otp_request"),
        {"phone": people["resident"].phone, "purpose": "login"},
        follow=True,
    )
    text = response.content.decode()
    assert response.redirect_chain[-1][0] == "/accounts/login/?phone=13900000001&tab=code"
    assert "验证码已发送至 139****0001" in text
    assert 'value="13900000001"' in text


# --- registration, activation, password -------------------------------------------------------


def test_register_then_claim_a_dwelling(client, tree, people, code_for):
    code = code_for(NEW_PHONE, OtpPurpose.REGISTER)
    response = client.post(
        reverse("accounts:register"), {"phone": NEW_PHONE, "code": code, "name": "陈女士"}
    )
    assert response.url == reverse("accounts:claim")
    newcomer = User.objects.get(phone=NEW_PHONE)
    assert signed_in_user(client) == str(newcomer.pk)

    buildings = client.get(
        reverse("accounts:claim_options"),
        {"level": "buildings", "community": tree["community"].pk},
        **HTMX,
    ).content.decode()
    assert "1号楼" in buildings and "2号楼" in buildings and "9号楼" not in buildings
    dwellings = client.get(
        reverse("accounts:claim_options"),
        {"level": "places", "community": tree["community"].pk, "building": tree["building"].pk},
        **HTMX,
    ).content.decode()
    assert "1单元 101室" in dwellings and "201室" not in dwellings

    response = client.post(
        reverse("accounts:claim"), {"place": tree["dwelling_102"].pk, "relation": "owner"}
    )
    assert response.url == reverse("home")
    residency = Residency.objects.get(user=newcomer)
    assert residency.status == ResidencyStatus.CLAIMED
    home = client.get(reverse("home")).content.decode()
    assert "102室" in home and "待核验" in home


def test_street_shops_are_offered_under_the_community(client, tree, shop, people):
    client.force_login(people["resident"])
    buildings = client.get(
        reverse("accounts:claim_options"),
        {"level": "buildings", "community": tree["community"].pk},
    ).content.decode()
    assert 'value="shops"' in buildings
    shops = client.get(
        reverse("accounts:claim_options"),
        {"level": "places", "community": tree["community"].pk, "building": "shops"},
    ).content.decode()
    assert "虹桥便利店" in shops


def test_claim_without_a_place_is_refused(client, people):
    client.force_login(people["resident"])
    response = client.post(reverse("accounts:claim"), {"relation": "owner"})
    assert response.status_code == 200
    assert "请选择房屋或商铺。" in response.content.decode()
    assert not Residency.objects.exists()


def test_claim_page_without_javascript_fills_the_selects_from_the_query(client, tree, people):
    client.force_login(people["resident"])
    text = client.get(
        reverse("accounts:claim"),
        {"community": tree["community"].pk, "building": tree["building"].pk},
    ).content.decode()
    assert "1号楼" in text and "102室" in text


def test_register_with_a_taken_phone_says_log_in(client, people, code_for):
    response = client.post(
        reverse("accounts:otp_request"),
        {"phone": people["resident"].phone, "purpose": "register"},
        **HTMX,
    )
    assert "该手机号已注册，请直接登录。" in response.content.decode()


def test_roster_resident_activates_and_lands_home(client, tree, people, code_for):
    resident_from_roster(
        actor=people["worker"],
        name="张阿姨",
        phone=NEW_PHONE,
        dwelling=tree["dwelling_102"],
        relation=Relation.OWNER,
    )
    code = code_for(NEW_PHONE, OtpPurpose.ACTIVATE)
    response = client.post(
        reverse("accounts:activate"),
        {"phone": NEW_PHONE, "code": code, "password1": "", "password2": ""},
    )
    assert response.url == reverse("home")
    home = client.get(reverse("home")).content.decode()
    assert "张阿姨" in home and "102室" in home and "已核验" in home and "业主" in home
    assert "设置密码" in home


def test_activation_with_mismatched_passwords(client, tree, people, code_for):
    resident_from_roster(
        actor=people["worker"],
        name="张阿姨",
        phone=NEW_PHONE,
        dwelling=tree["dwelling_102"],
        relation=Relation.OWNER,
    )
    code = code_for(NEW_PHONE, OtpPurpose.ACTIVATE)
    response = client.post(
        reverse("accounts:activate"),
        {"phone": NEW_PHONE, "code": code, "password1": "Abc-12345", "password2": "Abc-12346"},
    )
    assert "两次输入的密码不一致。" in response.content.decode()
    assert not User.objects.get(phone=NEW_PHONE).is_active


def test_password_change(client, people):
    client.force_login(people["worker"])
    wrong = client.post(
        reverse("accounts:password_change"),
        {"old_password": "x", "new_password1": "Next-pw-2027", "new_password2": "Next-pw-2027"},
    )
    assert wrong.status_code == 200
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Next-pw-2027",
            "new_password2": "Next-pw-2027",
        },
    )
    assert response.url == reverse("home")
    assert signed_in_user(client) is not None, "still signed in after the change"
    people["worker"].refresh_from_db()
    assert people["worker"].check_password("Next-pw-2027")


def test_a_code_only_resident_sets_a_first_password(client, db, code_for):
    code = code_for(NEW_PHONE, OtpPurpose.REGISTER)
    user = resident_register(phone=NEW_PHONE, code=code, name="陈女士")
    client.force_login(user)
    page = client.get(reverse("accounts:password_change")).content.decode()
    assert "old_password" not in page
    client.post(
        reverse("accounts:password_change"),
        {"new_password1": "First-pw-2026", "new_password2": "First-pw-2026"},
    )
    user.refresh_from_db()
    assert user.check_password("First-pw-2026")


# --- the verification queue ----------------------------------------------------------------------


@pytest.fixture
def claims(tree, code_for):
    code = code_for(NEW_PHONE, OtpPurpose.REGISTER)
    claimant = resident_register(phone=NEW_PHONE, code=code, name="陈女士")
    return {
        "here": residency_claim(user=claimant, place=tree["dwelling_102"], relation=Relation.OWNER),
        "there": residency_claim(
            user=claimant, place=tree["other_dwelling"], relation=Relation.TENANT
        ),
    }


def test_the_queue_shows_only_claims_in_the_workers_scope(client, people, claims):
    client.force_login(people["worker"])
    text = client.get(reverse("accounts:verification_queue")).content.decode()
    assert f'id="residency-{claims["here"].pk}"' in text
    assert f'id="residency-{claims["there"].pk}"' not in text
    assert "137****1111" in text and NEW_PHONE not in text
    read = PersonalDataAccess.objects.get()
    assert (read.viewer, read.subject) == (people["worker"], claims["here"].user)


def test_an_out_of_scope_claim_answers_404(client, people, claims):
    client.force_login(people["worker"])
    url = reverse("accounts:verification_decide", args=[claims["there"].pk])
    assert client.post(url, {"decision": "verify"}).status_code == 404
    phone = reverse("accounts:verification_phone", args=[claims["there"].pk])
    assert client.post(phone).status_code == 404
    missing = reverse("accounts:verification_decide", args=[999999])
    assert client.post(missing, {"decision": "verify"}).status_code == 404
    claims["there"].refresh_from_db()
    assert claims["there"].status == ResidencyStatus.CLAIMED


def test_people_without_a_verifying_role_are_refused_the_queue(client, people, claims):
    for key in ("resident", "grid_worker", "supervisor", "property"):
        client.force_login(people[key])
        assert client.get(reverse("accounts:verification_queue")).status_code == 403


def test_approve_with_htmx_swaps_the_row(client, people, claims):
    client.force_login(people["worker"])
    response = client.post(
        reverse("accounts:verification_decide", args=[claims["here"].pk]),
        {"decision": "verify", "relation": "tenant", "note": "看过租房合同"},
        **HTMX,
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert f'id="residency-{claims["here"].pk}"' in text and "已核验" in text
    assert "看过租房合同" in text
    residency = Residency.objects.get(pk=claims["here"].pk)
    assert residency.relation == Relation.TENANT
    assert RoleAssignment.objects.filter(
        user=residency.user, role=Role.RESIDENT, place=residency.place
    ).exists()


def test_reject_without_a_reason_keeps_the_form(client, people, claims):
    client.force_login(people["worker"])
    response = client.post(
        reverse("accounts:verification_decide", args=[claims["here"].pk]),
        {"decision": "reject", "note": ""},
        **HTMX,
    )
    text = response.content.decode()
    assert "请填写未通过的原因。" in text
    assert 'name="decision"' in text
    with_reason = client.post(
        reverse("accounts:verification_decide", args=[claims["here"].pk]),
        {"decision": "reject", "note": "查无此人"},
    )
    assert with_reason.url == reverse("accounts:verification_queue")
    assert Residency.objects.get(pk=claims["here"].pk).status == ResidencyStatus.REJECTED


def test_revealing_a_phone_is_recorded(client, people, claims):
    client.force_login(people["worker"])
    response = client.post(reverse("accounts:verification_phone", args=[claims["here"].pk]))
    assert response.content.decode() == NEW_PHONE
    read = PersonalDataAccess.objects.get(fields="phone")
    assert read.viewer == people["worker"]
    assert read.object_id == str(claims["here"].pk)


# --- the home page ---------------------------------------------------------------------------


def test_home_for_a_community_worker_shows_the_tree_with_counts(client, people, claims):
    client.force_login(people["worker"])
    text = client.get(reverse("home")).content.decode()
    assert "社区工作者" in text
    assert "虹桥新城居民区" in text and "虹桥新城小区" in text
    assert "2 栋" in text and "3 户" in text
    assert "1号楼" not in text, "a community's tree stops at its estates"
    assert "另一居民区" not in text
    assert "居住关系核验" in text


def test_home_for_a_grid_worker_shows_their_buildings(client, people):
    client.force_login(people["grid_worker"])
    text = client.get(reverse("home")).content.decode()
    assert "第一网格" in text and "1号楼" in text and "2 户" in text
    assert "2号楼" not in text
    assert "居住关系核验" not in text


def test_home_for_a_supervisor_stops_at_estates(client, people):
    client.force_login(people["supervisor"])
    text = client.get(reverse("home")).content.decode()
    assert "周家桥街道" in text and "虹桥新城小区" in text and "另一小区" in text
    assert "1号楼" not in text


def test_home_for_the_administrator_starts_at_districts(client, people, far_dwelling):
    client.force_login(people["admin"])
    text = client.get(reverse("home")).content.decode()
    assert "长宁区" in text and "徐汇区" in text and "全部地区" in text


def test_home_for_a_new_resident_invites_a_claim(client, db, code_for):
    code = code_for(NEW_PHONE, OtpPurpose.REGISTER)
    client.force_login(resident_register(phone=NEW_PHONE, code=code, name="陈女士"))
    text = client.get(reverse("home")).content.decode()
    assert "您还没有申报房屋或商铺" in text
    assert reverse("accounts:claim") in text
