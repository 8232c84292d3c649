"""Demo builder 2: staff in every role, residents from the roster, street-shop operators.

Everyone goes through `accounts.services`: `user_create` and `role_assign` for people who
sign in with the demo password, `resident_from_roster` for residents (verified at their
dwelling, inactive until they activate with a code, exactly as a roster import leaves
them). A community's people are built in one transaction and found again by its
secretary's username, so a second run skips the community.

Hashing the demo password with argon2 takes about 0.15 s per account on a small machine,
which for several hundred staff would be most of a minute; the demo hashes it once and
gives every demo account that hash (one `user.password_set` audit event each). The
password is published anyway, so a shared salt gives nothing away.
"""

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Relation, Residency, Role, User
from gongzhi.accounts.services import resident_from_roster, role_assign, user_create
from gongzhi.core.audit import audit_record_many
from gongzhi.core.errors import Conflict
from gongzhi.places.models import CommunityType, Grid, Place, PlaceKind

from .context import DemoContext
from .names import demo_phone, person_name
from .places import community_code
from .spec import CLUSTER_DISTRICTS, CLUSTER_NAME, COMMUNITIES, DISTRICTS, PARTNERS, CommunitySpec

DEMO_PASSWORD = "gongzhi-demo-2026"
ADMIN_USERNAME = "demo-admin"
# Share of dwellings with an account from the roster, and of those a second household
# member; the rest of the households have not been entered yet.
RESIDENT_SHARE = 0.12
SECOND_MEMBER_SHARE = 0.25
SHOP_OPERATOR_SHARE = 0.6
VOLUNTEERS = 6
GRID_WORKERS = 2


@dataclass(frozen=True)
class Login:
    role: str
    username: str  # "—" for a roster resident, who signs in with the phone
    phone: str
    password: str  # "—" until a roster resident has activated the account
    hint: str


def check(ctx: DemoContext) -> None:
    """Refuse, before anything is written, if a demo username or phone block is taken.

    The roster binds residents by phone, so a real person's account in a demo phone
    block would be tied to a demo dwelling; a demo username held by someone else would
    make the printed logins lie.
    """
    if not User.objects.filter(username=ADMIN_USERNAME).exists():
        _check_free(0, Q(username__in=_oversight_usernames()))
    for block, spec in enumerate(COMMUNITIES, start=1):
        if not User.objects.filter(username=f"{spec.key}-secretary").exists():
            _check_free(block, Q(username__startswith=f"{spec.key}-"))


def _oversight_usernames() -> list[str]:
    return [
        ADMIN_USERNAME,
        *(f"{d.key}-district" for d in DISTRICTS),
        *(f"{segment.lower()}-supervisor" for d in DISTRICTS for segment, _n in d.subdistricts),
        *(f"partner{n}" for n in range(1, len(PARTNERS) + 1)),
    ]


def _check_free(block: int, usernames: Q) -> None:
    phone_prefix = demo_phone(block, 1)[:6]
    taken = User.objects.filter(Q(phone__startswith=phone_prefix) | usernames).first()
    if taken is not None:
        raise Conflict(
            _("账号 %(username)s 占用了演示用户名或号段 %(prefix)s，演示数据不会改动它。")
            % {"username": taken.username, "prefix": phone_prefix},
            code="demo_account_conflict",
        )


def build(ctx: DemoContext) -> None:
    """Create the people above communities, then each community's people, where missing."""
    password = _PasswordHash()
    if not User.objects.filter(username=ADMIN_USERNAME).exists():
        with transaction.atomic():
            _build_oversight(ctx, password)
    for block, spec in enumerate(COMMUNITIES, start=1):
        if User.objects.filter(username=f"{spec.key}-secretary").exists():
            continue
        with transaction.atomic():
            _build_community(ctx, password, block, spec)


class _PasswordHash:
    """The demo password hashed once per run, and only if someone needs it."""

    def __init__(self) -> None:
        self._hash: str | None = None

    def give(self, user_ids: list[int]) -> None:
        if not user_ids:
            return
        if self._hash is None:
            self._hash = make_password(DEMO_PASSWORD)
        User.objects.filter(pk__in=user_ids).update(password=self._hash)
        audit_record_many(
            actor=None,
            verb="user.password_set",
            changes=((User(pk=pk), None, {"source": "demo"}) for pk in user_ids),
        )


class _Accounts:
    """Creates one community's (or the oversight level's) demo accounts, numbering phones."""

    def __init__(self, ctx: DemoContext, block: int, rng: random.Random) -> None:
        self.ctx = ctx
        self.block = block
        self.rng = rng
        self.serial = 0
        self.signed_in: list[int] = []

    def phone(self) -> str:
        self.serial += 1
        return demo_phone(self.block, self.serial)

    def person(self, username: str) -> User:
        """An account that signs in with the demo password (given when the block is done)."""
        user = user_create(
            actor=None, username=username, name=person_name(self.rng), phone=self.phone()
        )
        self.signed_in.append(user.pk)
        self.ctx.count(_("账号"), 1)
        return user

    def staff(
        self,
        username: str,
        role: str,
        *,
        place: Place | None = None,
        grid: Grid | None = None,
        organisation: str = "",
    ) -> User:
        """A signing-in account holding one role."""
        user = self.person(username)
        role_assign(
            actor=None, user=user, role=role, place=place, grid=grid, organisation=organisation
        )
        return user

    def roster(self, *, actor: User, place: Place, relation: str) -> User:
        """A resident or shop operator entered from the roster, not yet activated."""
        self.ctx.count(_("账号"), 1)
        return resident_from_roster(
            actor=actor,
            name=person_name(self.rng),
            phone=self.phone(),
            dwelling=place,
            relation=relation,
        )


def _build_oversight(ctx: DemoContext, password: _PasswordHash) -> None:
    accounts = _Accounts(ctx, 0, ctx.rng("people", "oversight"))
    accounts.staff(ADMIN_USERNAME, Role.ADMINISTRATOR)
    for district_spec in DISTRICTS:
        district = Place.objects.get(code=district_spec.code)
        accounts.staff(f"{district_spec.key}-district", Role.DISTRICT_SUPERVISOR, place=district)
        for segment, _name in district_spec.subdistricts:
            subdistrict = Place.objects.get(code=f"{district.code}-{segment}")
            accounts.staff(
                f"{segment.lower()}-supervisor", Role.SUBDISTRICT_SUPERVISOR, place=subdistrict
            )
    cluster_districts = list(Place.objects.filter(code__in=CLUSTER_DISTRICTS).order_by("code"))
    for number, field in enumerate(PARTNERS, start=1):
        partner = accounts.staff(
            f"partner{number}",
            Role.PARTNER,
            place=cluster_districts[0],
            organisation=f"{CLUSTER_NAME}赋能伙伴（{field}）",
        )
        for district in cluster_districts[1:]:
            role_assign(
                actor=None,
                user=partner,
                role=Role.PARTNER,
                place=district,
                organisation=f"{CLUSTER_NAME}赋能伙伴（{field}）",
            )
    password.give(accounts.signed_in)
    ctx.say(_("管理员、区和街道督办、%(n)d 名赋能伙伴") % {"n": len(PARTNERS)})


def _build_community(
    ctx: DemoContext, password: _PasswordHash, block: int, spec: CommunitySpec
) -> None:
    community = Place.objects.get(code=community_code(spec))
    dwellings = list(
        Place.objects.filter(community=community, kind=PlaceKind.DWELLING).order_by("code")
    )
    rng = ctx.rng("people", community.code)
    accounts = _Accounts(ctx, block, rng)
    rental = spec.community_type == CommunityType.RENTAL
    home_relation = Relation.TENANT if rental else Relation.OWNER
    key = spec.key

    accounts.staff(f"{key}-secretary", Role.SECRETARY, place=community)
    accounts.staff(f"{key}-director", Role.DIRECTOR, place=community)
    workers = [
        accounts.staff(f"{key}-worker{n}", Role.COMMUNITY_WORKER, place=community)
        for n in range(1, min(4, 2 + len(dwellings) // 1500) + 1)
    ]
    accounts.staff(f"{key}-mediator", Role.MEDIATOR, place=community)
    for grid in Grid.objects.filter(community=community).order_by("code"):
        segment = grid.code.rsplit("-", 1)[-1].lower()
        accounts.staff(f"{key}-{segment}-leader", Role.GRID_LEADER, grid=grid)
        for n in range(1, GRID_WORKERS + 1):
            accounts.staff(f"{key}-{segment}-worker{n}", Role.GRID_WORKER, grid=grid)

    free = _DwellingPool(dwellings, rng)
    estates = {e.segment: e for e in Place.objects.filter(parent=community, kind=PlaceKind.ESTATE)}
    for estate_spec in spec.estates:
        estate = estates[estate_spec.segment]
        prefix = f"{key}-{estate_spec.segment.lower()}"
        accounts.staff(
            f"{prefix}-property",
            Role.PROPERTY_MANAGER,
            place=estate,
            organisation=estate_spec.property_company,
        )
        # Owners' committee members are owners of the estate they serve.
        for n in range(1, estate_spec.owners_committee + 1):
            member = accounts.staff(
                f"{prefix}-oc{n}",
                Role.OWNERS_COMMITTEE,
                place=estate,
                organisation=f"{estate.name}业主委员会",
            )
            _bind(member, free.take(within=estate.code), Relation.OWNER, workers[0])
    # 楼组长: one resident per building.
    for building in Place.objects.filter(community=community, kind=PlaceKind.BUILDING).order_by(
        "parent__code", "sort_key"
    ):
        segment = building.code.split("-", 3)[-1].replace("-", "").lower()
        leader = accounts.staff(f"{key}-{segment}-leader", Role.BUILDING_LEADER, place=building)
        _bind(leader, free.take(within=building.code), home_relation, workers[0])
    for n in range(1, VOLUNTEERS + 1):
        volunteer = accounts.staff(f"{key}-volunteer{n}", Role.VOLUNTEER, place=community)
        _bind(volunteer, free.take(), home_relation, workers[0])
    _bind(accounts.person(f"{key}-resident"), free.take(), home_relation, workers[0])

    shops = list(
        Place.objects.filter(community=community, kind=PlaceKind.STREET_SHOP).order_by("code")
    )
    for index, shop in enumerate(shops):
        if index == 0:
            _bind(accounts.person(f"{key}-shop1"), shop, Relation.SHOP_OPERATOR, workers[0])
        elif rng.random() < SHOP_OPERATOR_SHARE:
            accounts.roster(actor=workers[0], place=shop, relation=Relation.SHOP_OPERATOR)

    # The roster: a share of the remaining households, entered by the community's workers.
    for index, dwelling in enumerate(free.sample(round(len(dwellings) * RESIDENT_SHARE))):
        entered_by = workers[index % len(workers)]
        first = home_relation if rental else _household_relation(rng)
        accounts.roster(actor=entered_by, place=dwelling, relation=first)
        if rng.random() < SECOND_MEMBER_SHARE:
            accounts.roster(actor=entered_by, place=dwelling, relation=Relation.FAMILY)
    password.give(accounts.signed_in)
    ctx.say(
        _("%(name)s：%(staff)d 名工作人员和骨干，%(residents)d 名居民")
        % {
            "name": spec.name,
            "staff": len(accounts.signed_in),
            "residents": Residency.objects.filter(community=community).count(),
        }
    )


def _household_relation(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return Relation.OWNER
    if roll < 0.85:
        return Relation.TENANT
    return Relation.FAMILY


def _bind(user: User, place: Place, relation: str, worker: User) -> None:
    resident_from_roster(
        actor=worker, name=user.name, phone=user.phone, dwelling=place, relation=relation
    )


class _DwellingPool:
    """Dwellings not yet given to anyone, drawn in a seeded order."""

    def __init__(self, dwellings: list[Place], rng: random.Random) -> None:
        self.rng = rng
        self.free = {d.code: d for d in dwellings}

    def take(self, within: str = "") -> Place:
        candidates = [code for code in self.free if not within or code.startswith(within + "-")]
        code = self.rng.choice(sorted(candidates))
        return self.free.pop(code)

    def sample(self, n: int) -> list[Place]:
        codes = self.rng.sample(sorted(self.free), min(n, len(self.free)))
        return [self.free.pop(code) for code in sorted(codes)]


def logins() -> list[Login]:
    """One account of each role for the printed table, as they stand in the database."""
    wanted = [
        (Role.ADMINISTRATOR, ADMIN_USERNAME, _("全部地点与配置")),
        (Role.DISTRICT_SUPERVISOR, "changning-district", _("长宁区所有居民区：办理情况与督办")),
        (Role.SUBDISTRICT_SUPERVISOR, "zjq-supervisor", _("周家桥街道下的居民区")),
        (Role.PARTNER, "partner1", _("第二片区的工作法与共性难题，看不到居民个人信息")),
        (Role.SECRETARY, "hqxc-secretary", _("虹桥新城居民区全貌（故事1 电瓶车治理）")),
        (Role.DIRECTOR, "hqxc-director", _("虹桥新城居民区全貌")),
        (Role.COMMUNITY_WORKER, "hqxc-worker1", _("核验居民申报、处理上报")),
        (Role.GRID_LEADER, "hqxc-g1-leader", _("第一网格的楼栋和住户")),
        (Role.GRID_WORKER, "hqxc-g1-worker1", _("第一网格的楼栋和住户")),
        (Role.PROPERTY_MANAGER, "hqxc-e1-property", _("虹桥新城的物业公司：派给物业的上报")),
        (Role.OWNERS_COMMITTEE, "lfl99-e1-oc1", _("临汾路99弄 9 人业委会（故事6）")),
        (Role.MEDIATOR, "hqxc-mediator", _("虹桥新城居民区的纠纷调解")),
        (Role.VOLUNTEER, "hqxc-volunteer1", _("志愿者巡查")),
        (Role.BUILDING_LEADER, "hqxc-e1b1-leader", _("虹桥新城1号楼")),
        (Role.RESIDENT, "hqxc-resident", _("用手机打开本居民区上报页，一键上报")),
        (Role.STREET_SHOP, "hqxc-shop1", _("沿街商铺")),
    ]
    phones = dict(
        User.objects.filter(username__in=[u for _r, u, _h in wanted]).values_list(
            "username", "phone"
        )
    )
    rows = [
        Login(str(Role(role).label), username, phones[username] or "", DEMO_PASSWORD, str(hint))
        for role, username, hint in wanted
        if username in phones
    ]
    waiting = (
        Residency.objects.filter(
            community__code=community_code(COMMUNITIES[0]),
            source="roster",
            user__is_active=False,
        )
        .select_related("user")
        .order_by("place__code", "id")
        .first()
    )
    if waiting is not None:
        rows.append(
            Login(
                str(_("居民（花名册，未激活）")),
                "—",
                waiting.user.phone or "",
                "—",
                str(_("用手机号和验证码激活账号（验证码见控制台）")),
            )
        )
    return rows
