"""What every demo builder receives: the seed, the scale and where to report progress."""

import random
import time
from dataclasses import dataclass, field
from typing import Protocol


class Writer(Protocol):
    def write(self, msg: str, /) -> object: ...


@dataclass
class DemoContext:
    """Shared by the builders of one `gongzhi demo` run.

    `scale` shrinks the number of buildings and shops (1.0 is the full demo; tests use a
    few percent); people per community and the shape of the tree do not change with it.
    """

    stdout: Writer
    seed: int = 2026
    scale: float = 1.0
    # What each builder created in this run, by label (empty when nothing was missing).
    created: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def rng(self, *parts: object) -> random.Random:
        """A random generator fixed by the seed and `parts`: independent of build order."""
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def scaled(self, count: int) -> int:
        """`count` shrunk by the scale, never below one."""
        return max(1, round(count * self.scale))

    def say(self, msg: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self.started:5.1f}s] {msg}\n")

    def count(self, label: str, n: int) -> None:
        self.created[label] = self.created.get(label, 0) + n
