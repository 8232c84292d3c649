"""`gongzhi screenshots`: pictures of the key pages, from a real run, for the README.

Everything happens in a throwaway folder: a fresh SQLite database is migrated and filled
by `gongzhi demo` (at a small scale) and by eight weeks of cases made through the case
services at their own times; `gongzhi serve` then runs on 127.0.0.1 with that data, and
Debian's chromium (through Playwright) signs in as the demo's people and photographs the
pages at phone (375×812) and PC (1280×800) sizes. The server is stopped by its process id
and the folder removed, whatever happens.

Needs the development extras (Playwright, time-machine) and `chromium` on the PATH
(scripts/ensure-chromium.sh installs it).
"""

import argparse
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Every demo account's password (docs/demo.md).
DEMO_PASSWORD = "gongzhi-demo-2026"
# The community whose pages are photographed (story 1's 虹桥新城) and the cluster table.
COMMUNITY_SEGMENT = "HQXC"
CLUSTER_CODE = "P2"
# Chromium as the browser tests start it: headless, no sandbox for root in a container,
# and no calls to Google's services on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PC = {"viewport": {"width": 1280, "height": 800}}
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 40
# Set by the command for its child that makes the cases: the database it may write to.
THROWAWAY_DB_VARIABLE = "GONGZHI_SCREENSHOTS_DB"


@dataclass(frozen=True)
class Shot:
    name: str
    device: dict[str, Any]
    username: str
    path: str
    full_page: bool = False
    wait_for: str = ""


class Command(BaseCommand):
    help = "Regenerates the screenshots of the key pages (phone and PC) from a real run."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="docs/screenshots", help="folder for the PNG files")
        parser.add_argument(
            "--scale", type=float, default=0.02, help="demo scale (see `gongzhi demo`)"
        )
        # Used by the command itself, in the child that fills the throwaway database.
        parser.add_argument("--make-cases", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *, out: str, scale: float, make_cases: bool, **options):
        if make_cases:
            self._make_cases()
            return
        chromium = shutil.which("chromium")
        if chromium is None:
            raise CommandError("chromium is not installed: run scripts/ensure-chromium.sh")
        out_dir = Path(out).resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="gongzhi-screenshots-") as folder:
            work = Path(folder)
            database = work / "screenshots.sqlite3"
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "gongzhi.config.settings.dev",
                "GONGZHI_DATA_DIR": str(work),
                "DATABASE_URL": f"sqlite:///{database}",
                THROWAWAY_DB_VARIABLE: str(database),
                "DEBUG": "0",
            }
            log = (work / "server.log").open("w")
            started = time.monotonic()
            self._gongzhi(["migrate", "--no-input"], env, log)
            self._gongzhi(["demo", "--scale", str(scale)], env, log)
            self._gongzhi(["screenshots", "--make-cases"], env, log)
            plan = json.loads((work / "plan.json").read_text())
            self.stdout.write(f"data ready in {time.monotonic() - started:.0f} s")
            port = _free_port()
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gongzhi.cli",
                    "serve",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--no-worker",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                base_url = f"http://127.0.0.1:{port}"
                _wait_until_up(base_url, server)
                written = self._shoot(base_url, chromium, plan, out_dir)
            finally:
                _stop(server)
                log.close()
        for path in written:
            self.stdout.write(f"{path}  {path.stat().st_size // 1024} KB")

    def _gongzhi(self, arguments: list[str], env: dict[str, str], log) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "gongzhi.cli", *arguments],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if result.returncode != 0:
            raise CommandError(f"gongzhi {' '.join(arguments)} failed (exit {result.returncode})")

    def _shoot(self, base_url: str, chromium: str, plan: dict[str, Any], out: Path) -> list[Path]:
        from playwright.sync_api import sync_playwright

        community = plan["community"]
        shots = [
            Shot("resident-report-375.png", PHONE, plan["resident"], f"/r/{plan['slug']}/"),
            Shot(
                "resident-case-375.png",
                PHONE,
                plan["resident"],
                f"/my/cases/{plan['resident_case']}/",
            ),
            Shot("worker-inbox-1280.png", PC, plan["worker"], "/work/"),
            Shot("worker-case-1280.png", PC, plan["worker"], f"/work/cases/{plan['worker_case']}/"),
            Shot(
                "board-1280.png",
                PC,
                plan["secretary"],
                f"/board/{community}/",
                full_page=True,
                wait_for='[data-chart="trend"] canvas',
            ),
            Shot(
                "board-375.png",
                PHONE,
                plan["secretary"],
                f"/board/{community}/",
                wait_for='[data-chart="trend"] canvas',
            ),
            Shot("cluster-1280.png", PC, plan["admin"], f"/board/cluster/{CLUSTER_CODE}/"),
        ]
        written = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                for shot in shots:
                    context = browser.new_context(base_url=base_url, locale="zh-CN", **shot.device)
                    page = context.new_page()
                    page.set_default_timeout(20_000)
                    _sign_in(page, shot.username)
                    response = page.goto(shot.path)
                    if response is None or response.status != 200:
                        status = response.status if response else "no answer"
                        raise CommandError(f"{shot.path} answered {status} to {shot.username}")
                    if shot.wait_for:
                        page.locator(shot.wait_for).first.wait_for()
                    page.wait_for_load_state("networkidle")
                    page.evaluate("document.fonts.ready")
                    path = out / shot.name
                    page.screenshot(path=str(path), full_page=shot.full_page)
                    _shrink(path)
                    written.append(path)
                    context.close()
            finally:
                browser.close()
        return written

    def _make_cases(self) -> None:
        """Eight weeks of cases in every demo community, each step at its own time, plus
        open ones this week; writes plan.json (who signs in, which pages) for the parent."""
        database = os.environ.get(THROWAWAY_DB_VARIABLE, "")
        if not database or str(settings.DATABASES["default"]["NAME"]) != database:
            raise CommandError("--make-cases only writes to the command's throwaway database")
        plan = _CaseMaker(now=datetime.now().astimezone()).run()
        (Path(settings.DATA_DIR) / "plan.json").write_text(json.dumps(plan))


class _CaseMaker:
    """Reports, responses, completions and follow-ups through the services, each at the
    moment it happens (time-machine moves the clock; nothing is written around them)."""

    def __init__(self, *, now: datetime):
        from django.utils import timezone

        self.now = timezone.localtime(now)
        self.rng = random.Random(2026)

    def run(self) -> dict[str, Any]:
        from gongzhi.accounts.models import Residency, Role, RoleAssignment
        from gongzhi.cases.models import Case
        from gongzhi.cases.selectors import categories_for_report
        from gongzhi.places.models import Place, PlaceKind

        categories = {c.code: c for c in categories_for_report()}
        self.common = [
            categories[code] for code in ("street_light", "litter", "corridor_clutter", "noise")
        ]
        self.repair = categories["drain_blocked"]
        workers = {
            a.place_id: a.user
            for a in RoleAssignment.objects.filter(role=Role.COMMUNITY_WORKER, is_active=True)
            .select_related("user")
            .order_by("-user__username")
        }
        communities = list(Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("code"))
        community = next(c for c in communities if c.segment == COMMUNITY_SEGMENT)
        home, resident = self._residents_home(community, Residency)
        for community in communities:
            dwellings = list(
                Place.objects.filter(community=community, kind=PlaceKind.DWELLING)
                .order_by("code")
                .values_list("pk", flat=True)
            )
            if not dwellings or community.pk not in workers:
                continue
            ours = community.segment == COMMUNITY_SEGMENT
            weeks = range(8) if ours else range(6, 8)
            for week in weeks:
                for _ in range(self.rng.randint(4, 7) if ours else self.rng.randint(1, 4)):
                    place = Place.objects.get(pk=self.rng.choice(dwellings))
                    self._history(community, place, workers[community.pk], week)
        community = next(c for c in communities if c.segment == COMMUNITY_SEGMENT)
        worker = workers[community.pk]
        resident_case = self._awaiting_rating(home, resident)
        open_cases = self._open_this_week(community, worker)
        lead = open_cases[0].lead
        return {
            "community": community.code,
            "slug": community.settings.report_slug,
            "resident": resident.username,
            "resident_case": resident_case.number,
            "worker": lead.username,
            "worker_case": next(
                c.number
                for c in Case.objects.filter(lead=lead, state="in_progress").order_by("next_due_at")
            ),
            "secretary": f"{COMMUNITY_SEGMENT.lower()}-secretary",
            "admin": "demo-admin",
        }

    def _residents_home(self, community, residency_model):
        residency = (
            residency_model.objects.filter(
                place__community=community, user__username__endswith="-resident"
            )
            .select_related("place", "user")
            .first()
        )
        if residency is None:
            raise CommandError("the demo resident of the community has no home")
        return residency.place, residency.user

    def _at(self, moment: datetime):
        import time_machine

        return time_machine.travel(moment, tick=False)

    def _history(self, community, place, worker, week: int) -> None:
        """One case reported `week` weeks into the last eight, taken as far as it got."""
        from gongzhi.cases.models import Channel
        from gongzhi.cases.services import case_report

        monday = (self.now - timedelta(days=self.now.weekday(), weeks=7 - week)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        reported = monday + timedelta(
            days=self.rng.randint(0, 6),
            hours=self.rng.randint(8, 18),
            minutes=self.rng.randint(0, 59),
        )
        if reported > self.now - timedelta(hours=3):
            return
        category = self.rng.choice(self.common)
        with self._at(reported):
            case = case_report(
                actor=worker,
                place=place,
                category=category,
                text=f"{place.parent.name}附近{category.name}，请尽快处理",
                channel=Channel.PHONE,
                contact_name=_name(self.rng),
                contact_phone=f"199099{self.rng.randint(10000, 99999)}",
            )
        self._carry(case, worker, reported)

    def _carry(self, case, follower, reported: datetime) -> None:
        from gongzhi.cases.services import (
            case_complete,
            case_follow_up,
            case_respond,
            case_start,
        )

        lead = case.lead
        # The follow-up is someone else's call: the handler never rates their own work.
        if lead is None or lead == follower:
            return
        moment = reported + timedelta(minutes=self.rng.choice((3, 5, 8, 10, 12, 14, 22, 40)))
        if moment > self.now:
            return
        with self._at(moment):
            case = case_respond(actor=lead, case=case, note="已联系反映人，马上去现场")
            case = case_start(actor=lead, case=case)
        moment += timedelta(hours=self.rng.choice((1, 2, 3, 5, 8, 20, 30)))
        if moment > self.now:
            return
        with self._at(moment):
            case = case_complete(actor=lead, case=case, note="已到现场处理完毕")
        moment += timedelta(hours=self.rng.randint(2, 20))
        if moment > self.now:
            return
        unhappy = self.rng.random() < 0.15
        with self._at(moment):
            case = case_follow_up(
                actor=follower,
                case=case,
                resolved=not unhappy,
                satisfaction=(
                    "unsatisfied"
                    if unhappy
                    else self.rng.choice(("satisfied", "satisfied", "basically_satisfied"))
                ),
                method="phone",
            )
        if unhappy:
            moment += timedelta(hours=self.rng.randint(3, 20))
            if moment > self.now:
                return
            with self._at(moment):
                case = case_complete(actor=lead, case=case, note="重新处理，已复查")
            moment += timedelta(hours=4)
            if moment <= self.now:
                with self._at(moment):
                    case_follow_up(
                        actor=follower,
                        case=case,
                        resolved=True,
                        satisfaction="basically_satisfied",
                        method="phone",
                    )

    def _awaiting_rating(self, home, resident):
        """The resident's own report, completed this morning: her page asks for a rating."""
        from gongzhi.cases.models import Channel
        from gongzhi.cases.services import (
            case_complete,
            case_report,
            case_respond,
            case_start,
        )

        reported = self.now - timedelta(hours=5)
        with self._at(reported):
            case = case_report(
                actor=resident,
                place=home,
                category=self.common[0],
                text="楼下门口的路灯坏了，晚上出入很黑",
                channel=Channel.RESIDENT_PAGE,
            )
        with self._at(reported + timedelta(minutes=6)):
            case = case_respond(actor=case.lead, case=case, note="收到，今天上午去看")
            case = case_start(actor=case.lead, case=case)
        with self._at(reported + timedelta(hours=3)):
            case = case_complete(actor=case.lead, case=case, note="已更换灯泡", photos=[_photo()])
        return case

    def _open_this_week(self, community, worker) -> list:
        """Cases still being worked on now: waiting, responded, in progress, one overdue."""
        from gongzhi.cases.models import Channel
        from gongzhi.cases.services import case_report, case_respond, case_start
        from gongzhi.places.models import Place, PlaceKind

        dwellings = list(
            Place.objects.filter(community=community, kind=PlaceKind.DWELLING).order_by("code")[:40]
        )
        made = []
        for hours_ago, steps, category in (
            (30, 2, self.common[2]),  # in progress, past its 24 hours
            (26, 1, self.common[1]),  # responded yesterday, never started: overdue
            (5, 2, self.repair),  # repairs take working days
            (2, 2, self.common[3]),
            (0.1, 0, self.common[0]),  # just in: within its 15 minutes
        ):
            reported = self.now - timedelta(hours=hours_ago)
            place = self.rng.choice(dwellings)
            with self._at(reported):
                case = case_report(
                    actor=worker,
                    place=place,
                    category=category,
                    text=f"{place.parent.name}{category.name}，居民来电反映",
                    channel=Channel.PHONE,
                    contact_name=_name(self.rng),
                    contact_phone=f"199099{self.rng.randint(10000, 99999)}",
                )
            if steps and case.lead is not None:
                with self._at(reported + timedelta(minutes=7)):
                    case = case_respond(actor=case.lead, case=case)
                    if steps > 1:
                        case = case_start(actor=case.lead, case=case)
            made.append(case)
        return [c for c in made if c.state == "in_progress"] or made


def _name(rng: random.Random) -> str:
    from gongzhi.demo.names import person_name

    return person_name(rng)


def _photo():
    """A small picture for a completion that shows one."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (242, 200, 70)).save(buffer, format="PNG")
    return SimpleUploadedFile("lamp.png", buffer.getvalue(), content_type="image/png")


def _shrink(path: Path) -> None:
    """256 colours are plenty for a page of flat colours and text: about a third of the
    bytes in the repository, no visible difference."""
    from PIL import Image

    with Image.open(path) as shot:
        reduced = shot.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    reduced.save(path, optimize=True)


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=identifier]").fill(username)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"the server stopped at start (exit {server.returncode})")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise CommandError(f"the server did not answer within {START_TIMEOUT_SECONDS} s")


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process id (it stops gunicorn with it); SIGKILL if it hangs."""
    if server.poll() is not None:
        return
    os.kill(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
