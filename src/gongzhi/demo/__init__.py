"""The demo data set: the seed article's communities, their people and, later, their history.

`build` asks every builder in `BUILDERS` to `check` that nothing of someone else's is in
the way, then runs their `build` in order. Each builder takes the shared `DemoContext`,
creates only what is missing (finding its earlier work by codes and usernames) and writes
through the apps' services, so running the demo twice changes nothing. A builder for a
new app (cases, deliberation, outreach, ...) is a module of this package with
`check(ctx)` and `build(ctx)`, appended to `BUILDERS` after the ones whose records it
needs.
"""

from typing import Protocol

from django.utils.translation import gettext as _

from gongzhi.deliberation import demo as deliberation_demo
from gongzhi.open311 import demo as open311_demo

from . import people, places
from .context import DemoContext, Writer
from .people import DEMO_PASSWORD


class Builder(Protocol):
    def check(self, ctx: DemoContext) -> None: ...

    def build(self, ctx: DemoContext) -> None: ...


BUILDERS: list[Builder] = [places, people, open311_demo, deliberation_demo]

__all__ = ["BUILDERS", "DEMO_PASSWORD", "DemoContext", "build"]


def build(stdout: Writer, *, seed: int = 2026, scale: float = 1.0) -> DemoContext:
    """Create whatever part of the demo data is missing; report progress on `stdout`."""
    ctx = DemoContext(stdout=stdout, seed=seed, scale=scale)
    for builder in BUILDERS:
        builder.check(ctx)
    for builder in BUILDERS:
        builder.build(ctx)
    if not ctx.created:
        ctx.say(_("演示数据已存在，未做任何改动。"))
    return ctx
