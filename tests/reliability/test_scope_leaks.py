"""No leaks across scopes, generated: every object endpoint of the API (read from its
OpenAPI schema), Open311's request and token calls, and the case loop's pages, called as
every role for a case, photo, place, notice and receipt inside and outside that role's
reach (a receipt is its sender's alone).

An object the role may not see must be answered exactly like one that does not exist —
same status, same body — for reads and for every step. And the reporter's phone number
appears in full only to those rules §5 names (the reporter, the case's handlers, the
community's secretary or director); everyone else sees it masked, or not at all.

Who may see what is written here from the documented rules (cases.md "Who may do what",
api.md "Visibility"), independently of the selectors it checks. A new endpoint whose path
names a kind of object this walker does not know fails the test until it is taught.
"""

import json
import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from gongzhi.accounts.models import Relation, Role, RoleAssignment
from gongzhi.accounts.services import residency_claim, role_assign, user_create
from gongzhi.api.services import api_token_create
from gongzhi.cases.models import Case, CaseHandler, Channel, ReportReceipt
from gongzhi.cases.services import report_accept
from gongzhi.core.notifications import notify
from gongzhi.open311.services import open311_key_create
from gongzhi.places.services import cluster_create

from .conftest import phone_photo, upload

CASE_STAFF = {
    Role.GRID_WORKER,
    Role.GRID_LEADER,
    Role.COMMUNITY_WORKER,
    Role.SECRETARY,
    Role.DIRECTOR,
}
SUPERVISORS = {Role.SUBDISTRICT_SUPERVISOR, Role.DISTRICT_SUPERVISOR}
FULL_PHONE_ROLES = {Role.SECRETARY, Role.DIRECTOR}
MISSING = {
    "number": "HQXC-20000101-9999",
    "code": "310105-ZJQ-HQXC-E9-B9",
    "photo": 987654321,
    "handler": 987654321,
    "notification": 987654321,
    "token": "0123456789abcdef0123456789abcdef",
}
# The case loop's pages that name an object, by URL name: (method, kind of object).
PAGES = {
    "cases_worker:case": ("GET", "case"),
    "cases_worker:action": ("POST", "case"),
    "cases_worker:handler_update": ("POST", "case"),
    "cases_worker:photo": ("GET", "photo"),
    "cases:case_open": ("GET", "case"),
    "resident:my_case": ("GET", "case"),
    "resident:reported": ("GET", "case"),
    "resident:my_case_follow_up": ("POST", "case"),
    "resident:my_case_reopen": ("POST", "case"),
    "places:detail": ("GET", "place"),
    "places:roster_upload": ("GET", "place"),
    "insights:community": ("GET", "community"),
    "insights:area": ("GET", "area"),
    "insights:cluster": ("GET", "cluster"),
    "core:inbox_mark_read": ("POST", "notification"),
    "accounts:verification_decide": ("POST", "claim"),
    "accounts:verification_phone": ("GET", "claim"),
}
BOARD_ROLES = {Role.COMMUNITY_WORKER, Role.SECRETARY, Role.DIRECTOR} | SUPERVISORS
# Pages reached by a slug anyone may know (the report page's QR code), not an object id.
PUBLIC_SLUG_PAGES = {"resident:report", "resident:report_code", "resident:report_verify"}
PUBLIC_SLUG_PAGES |= {"resident:duplicates", "resident:poster", "resident:poster_qr"}


# --- the world ----------------------------------------------------------------------------


@pytest.fixture
def world(tree, people, report):
    """A case with a photo inside the shared community and one in the other community,
    each reporter notified; an Open311 request in each; and each reporter's receipt for
    a second report at the same place."""
    other_resident = user_create(
        actor=None, username="other_resident", name="外区居民", phone="13900000099"
    )
    role_assign(actor=None, user=other_resident, role=Role.RESIDENT, place=tree["other_dwelling"])
    people = {**people, "other_resident": other_resident}
    inside = report(photos=[upload("a.jpg", phone_photo())])
    outside = report(
        actor=other_resident,
        place=tree["other_dwelling"],
        photos=[upload("b.jpg", phone_photo())],
    )
    for case in (inside, outside):
        report_accept(
            actor=case.reporter,
            place=case.place,
            category=case.category,
            text="又坏了",
            channel=Channel.API,
        )
    return {"people": people, "inside": inside, "outside": outside}


def reaches(user, place) -> bool:
    """api.md: a role reaches its place and everything below it; a grid role the grid's
    buildings; an administrator everything."""
    return holds(user, set(Role), place)


def holds(user, roles, place) -> bool:
    """`user` holds one of `roles` over `place` (an administrator holds every role)."""
    if user is None:
        return False
    return any(
        a.role == Role.ADMINISTRATOR or (a.role in roles and reaches_by(a, place))
        for a in RoleAssignment.objects.filter(user=user, is_active=True)
    )


def reaches_by(assignment, place) -> bool:
    roots = (
        [assignment.place]
        if assignment.place_id
        else list(assignment.grid.buildings.all())
        if assignment.grid_id
        else []
    )
    return any(place.code == r.code or place.code.startswith(r.code + "-") for r in roots)


def sees_case(user, case: Case) -> bool:
    """cases.md, `cases.view`: the reporter, anyone who handles or handled it, case staff
    and supervisors over its place, administrators."""
    if user is None:
        return False
    if user.pk == case.reporter_id or CaseHandler.objects.filter(case=case, user=user).exists():
        return True
    return holds(user, CASE_STAFF | SUPERVISORS, case.place)


def sees_full_phone(user, case: Case) -> bool:
    """rules §5: the reporter, the case's handlers, the community's secretary or director."""
    if user is None:
        return False
    if user.pk == case.reporter_id or CaseHandler.objects.filter(case=case, user=user).exists():
        return True
    return any(
        a.role in FULL_PHONE_ROLES and reaches_by(a, case.place)
        for a in RoleAssignment.objects.filter(user=user, is_active=True)
    )


# --- calling ------------------------------------------------------------------------------


def masked(text: str, *values: Any) -> str:
    """The answer with the identifiers it was asked about blanked, so that "not found" for
    two different identifiers can be compared."""
    for value in values:
        text = re.sub(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", "<id>", text)
    return text


def answer(response) -> tuple[int, str]:
    if hasattr(response, "streaming_content"):
        return response.status_code, b"".join(response.streaming_content).decode(errors="replace")
    return response.status_code, response.content.decode(errors="replace")


class Caller:
    """One role: calls the API with its token, the pages with its session."""

    def __init__(self, client, user):
        self.client = client
        self.user = user
        self.auth = {}
        client.logout()
        if user is not None:
            client.force_login(user)
            _token, raw = api_token_create(actor=None, user=user, name="scope walk")
            self.auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def api(self, method: str, path: str, body: Any = None, multipart: bool = False):
        if method == "GET":
            return self.client.get(path, **self.auth)
        if multipart:
            return self.client.post(path, body or {}, **self.auth)
        return self.client.post(
            path, json.dumps(body or {}), content_type="application/json", **self.auth
        )

    def page(self, method: str, path: str):
        if method == "GET":
            return self.client.get(path)
        return self.client.post(path, {"note": "x", "reason": "x", "status": "done"})


# --- the API, from its schema -------------------------------------------------------------


def schema_operations(client) -> list[tuple[str, str, dict]]:
    schema = client.get("/api/v1/openapi.json").json()
    operations = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            content = op.get("requestBody", {}).get("content", {})
            kind = next(iter(content), "")
            body_schema = content.get(kind, {}).get("schema", {}) if kind else {}
            operations.append(
                (
                    method.upper(),
                    path,
                    {
                        "params": params,
                        "query": query,
                        "multipart": kind.startswith("multipart/"),
                        "body": example(body_schema, schema),
                    },
                )
            )
    return operations


def example(node: dict, schema: dict) -> Any:
    """A minimal valid value for a JSON schema: every required property filled in, so the
    call reaches the object lookup instead of stopping at validation."""
    if "$ref" in node:
        target: Any = schema
        for part in node["$ref"].split("/")[1:]:
            target = target[part]
        return example(target, schema)
    for combined in ("allOf", "anyOf", "oneOf"):
        if combined in node:
            return example(node[combined][0], schema)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return {
            name: example(prop, schema)
            for name, prop in node.get("properties", {}).items()
            if name in node.get("required", [])
        }
    return {"integer": 1, "number": 1, "boolean": True, "array": []}.get(kind, "x")


API_PARAMS = {"number", "code", "pk", "handler_id", "token"}


def api_path(path: str, params: list[str], target: dict) -> str:
    unknown = set(params) - API_PARAMS
    assert not unknown, f"{path}: teach the scope walker what {unknown} names"
    for name in params:
        path = path.replace("{" + name + "}", str(target[name]))
    return path


def targets(case: Case | None, place=None) -> dict:
    if case is None:
        return {
            "number": MISSING["number"],
            "code": MISSING["code"],
            "pk": MISSING["photo"],
            "handler_id": MISSING["handler"],
            "token": MISSING["token"],
        }
    handler = CaseHandler.objects.filter(case=case).first()
    return {
        "number": case.number,
        "code": (place or case.place).code,
        "pk": case.photos.first().pk,
        "handler_id": handler.pk if handler else MISSING["handler"],
        "token": receipt_of(case).token,
    }


def receipt_of(case: Case) -> ReportReceipt:
    """The world's receipt sent by the case's reporter about its place."""
    return ReportReceipt.objects.get(submitted_by=case.reporter, place=case.place)


ROLES = [
    "resident",
    "other_resident",
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
    "other_worker",
    None,
]


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_the_api_answers_what_a_role_may_not_see_exactly_like_what_does_not_exist(
    client, world, role
):
    user = world["people"][role] if role else None
    caller = Caller(client, user)
    checked = 0
    for method, path, spec in schema_operations(client):
        place_params = {"place", "community"} & set(spec["query"])
        if not spec["params"] and not place_params:
            continue
        for name in place_params:  # filters naming a place: unknown or unseen alike
            base = f"{path}?{name}="
            for case in (world["inside"], world["outside"]):
                place = case.place if name == "place" else case.community
                if reaches(user, place) or user is None:
                    continue
                hidden = answer(caller.api(method, base + place.code))
                missing = answer(caller.api(method, base + MISSING["code"]))
                assert hidden == missing, (role, path, name)
                checked += 1
        if not spec["params"]:
            continue
        missing_path = api_path(path, spec["params"], targets(None))
        missing = answer(caller.api(method, missing_path, spec["body"], spec["multipart"]))
        assert missing[0] in {401, 404, 422}, (role, missing_path, missing)
        for case in (world["inside"], world["outside"]):
            if spec["params"] == ["token"]:  # api.md: a receipt is its sender's alone
                visible = user is not None and user.pk == receipt_of(case).submitted_by_id
            elif spec["params"] == ["code"]:
                visible = reaches(user, case.place)
            else:
                visible = sees_case(user, case)
            if visible:
                continue
            hidden_path = api_path(path, spec["params"], targets(case))
            hidden = answer(caller.api(method, hidden_path, spec["body"], spec["multipart"]))
            assert hidden[0] == missing[0] and masked(hidden[1], case.number) == masked(
                missing[1], MISSING["number"]
            ), (role, method, hidden_path, hidden, missing)
            checked += 1
    sees_everything = all(sees_case(user, c) for c in (world["inside"], world["outside"]))
    if not sees_everything:
        assert checked > 10, "the walk must have compared something"


# --- pages --------------------------------------------------------------------------------


def page_routes() -> dict[str, str]:
    """Every page route of the case loop that names an object, by its URL name."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                yield f"{namespace}{pattern.name}", prefix + str(pattern.pattern)

    routes = {}
    for name, route in walk(get_resolver().url_patterns):
        if "<" not in route or route.startswith(("admin/", "api/", "open311/", "i18n/")):
            continue
        # Deliberation's pages (topics/) come with their own objects; not walked here yet.
        if route.startswith("topics/") or name in PUBLIC_SLUG_PAGES:
            continue
        routes[name] = route
    return routes


def fill(route: str, value: Any) -> str:
    path = re.sub(r"<(?:\w+:)?action>", "respond", route)
    return "/" + re.sub(r"<(?:\w+:)?\w+>", str(value), path)


def test_every_object_page_of_the_case_loop_is_walked(db):
    unknown = set(page_routes()) - set(PAGES)
    assert not unknown, f"teach the scope walker these pages: {sorted(unknown)}"


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_pages_answer_what_a_role_may_not_see_exactly_like_what_does_not_exist(client, world, role):
    user = world["people"][role] if role else None
    caller = Caller(client, user)
    routes = page_routes()
    claimant = user_create(actor=None, username="claimant", name="申报人", phone="13700000077")
    claimant.is_active = True
    claimant.save(update_fields=["is_active"])
    claims = {
        case: residency_claim(user=claimant, place=case.place, relation=Relation.TENANT)
        for case in (world["inside"], world["outside"])
    }
    clusters = {
        case: cluster_create(
            actor=None, code=f"P{n}", name=f"片区{n}", communities=[case.community]
        )
        for n, case in enumerate((world["inside"], world["outside"]))
    }
    notices = {
        case: notify(
            recipients=[case.reporter], verb="case.test", title="您的诉求有更新", obj=case
        )[0]
        for case in (world["inside"], world["outside"])
    }
    for name, (method, kind) in PAGES.items():
        route = routes[name]
        missing_value = {
            "case": MISSING["number"],
            "photo": MISSING["photo"],
            "place": MISSING["code"],
            "community": "310105-ZJQ-NOPE",
            "area": "310105-NOPE",
            "cluster": "P404",
            "notification": MISSING["notification"],
            "claim": MISSING["notification"],
        }[kind]
        missing = answer(caller.page(method, fill(route, missing_value)))
        for case in (world["inside"], world["outside"]):
            value, visible = {
                "case": (case.number, sees_case(user, case)),
                "photo": (case.photos.first().pk, sees_case(user, case)),
                "place": (case.place.code, reaches(user, case.place)),
                "community": (case.community.code, holds(user, BOARD_ROLES, case.community)),
                "area": (
                    case.community.code.rsplit("-", 1)[0],
                    holds(user, SUPERVISORS, case.community.parent),
                ),
                "cluster": (
                    clusters[case].code,
                    holds(user, BOARD_ROLES, case.community),
                ),
                "claim": (claims[case].pk, reaches(user, case.place)),
                "notification": (
                    notices[case].pk,
                    user is not None and notices[case].recipient_id == user.pk,
                ),
            }[kind]
            if visible:
                continue
            hidden = answer(caller.page(method, fill(route, value)))
            assert hidden[0] == missing[0] and masked(hidden[1], value) == masked(
                missing[1], missing_value
            ), (role, name, value, hidden[0], missing[0])


# --- phones -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_a_reporters_phone_is_in_full_only_for_those_rules_5_names(client, world, role):
    user = world["people"][role] if role else None
    caller = Caller(client, user)
    for case in (world["inside"], world["outside"]):
        phone = case.reporter.phone
        answers = [
            caller.api("GET", f"/api/v1/cases/{case.number}"),
            caller.page("GET", f"/work/cases/{case.number}/"),
            caller.page("GET", f"/my/cases/{case.number}/"),
            caller.page("GET", f"/cases/{case.number}/"),
            caller.api("GET", "/api/v1/cases"),
            caller.page("GET", "/work/"),
        ]
        shown = any(phone in answer(response)[1] for response in answers)
        if shown:
            assert sees_full_phone(user, case), (role, case.number)
        if sees_case(user, case) and not sees_full_phone(user, case):
            detail = answer(caller.api("GET", f"/api/v1/cases/{case.number}"))[1]
            assert f"{phone[:3]}****{phone[-4:]}" in detail, (role, case.number)


# --- Open311 --------------------------------------------------------------------------------


def test_open311_answers_another_jurisdictions_request_like_one_that_does_not_exist(
    client, world, tree
):
    _key, other_key = open311_key_create(
        actor=None, jurisdiction=tree["other_community"], name="外区应用"
    )
    filed = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": other_key,
            "jurisdiction_id": tree["other_community"].code,
            "service_code": "street_light",
            "address_id": tree["other_dwelling"].code,
            "description": "路灯不亮",
            "phone": "13912349876",
            "first_name": "明",
            "last_name": "王",
        },
        HTTP_IDEMPOTENCY_KEY="outside-token-1",
    ).json()[0]["service_request_id"]
    here = tree["community"].code
    for fmt in ("json", "xml"):
        for hidden_path, missing_path in (
            (f"requests/{filed}", f"requests/{MISSING['number']}"),
            (f"requests/{world['outside'].number}", f"requests/{MISSING['number']}"),
            ("tokens/outside-token-1", "tokens/no-such-token"),
        ):
            hidden = answer(client.get(f"/open311/v2/{hidden_path}.{fmt}?jurisdiction_id={here}"))
            missing = answer(client.get(f"/open311/v2/{missing_path}.{fmt}?jurisdiction_id={here}"))
            assert hidden[0] == missing[0] == 404
            assert masked(hidden[1], hidden_path.split("/")[1]) == masked(
                missing[1], missing_path.split("/")[1]
            )
    listing = answer(
        client.get(f"/open311/v2/requests.json?jurisdiction_id={tree['other_community'].code}")
    )[1]
    assert filed in listing
    for private in ("13912349876", "王", world["outside"].reporter.phone, "外区居民"):
        assert private not in listing
