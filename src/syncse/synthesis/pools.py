"""Prompt pool and example pool: the source of SynCSE's diversity.

Each annotation call samples one instruction template of its kind and k exemplars with an RNG
seeded by (run seed, input, kind, attempt), so a call's prompt does not depend on the order in
which concurrent calls finish, and a resumed run asks exactly the same questions (and so hits
the response cache).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from syncse.errors import DataError


@dataclass(frozen=True)
class Template:
    id: str
    text: str


@dataclass(frozen=True)
class Example:
    id: str
    input: str
    positive: str
    negative: str


@dataclass
class Pools:
    positive: list[Template]
    negative: list[Template]
    examples: list[Example]
    digest: str

    def sample(
        self, kind: str, k: int, rng: random.Random, avoid: str | None = None
    ) -> tuple[Template, list[Example]]:
        """A template of `kind` and `k` exemplars; `avoid`: a template id not to draw (a
        rewrite asks with another template), unless it is the only one."""
        templates = self.positive if kind == "positive" else self.negative
        if avoid is not None and len(templates) > 1:
            templates = [t for t in templates if t.id != avoid] or templates
        return rng.choice(templates), rng.sample(self.examples, min(k, len(self.examples)))


def load_pools(path: Path | None = None) -> Pools:
    if path is None:
        text = resources.files("syncse.synthesis").joinpath("pools/default.yaml").read_text()
        source: Path = Path("syncse/synthesis/pools/default.yaml")
    else:
        source = Path(path)
        if not source.is_file():
            raise DataError(source, "no such pools file")
        text = source.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise DataError(
            source,
            f"invalid YAML ({getattr(exc, 'problem', exc)})",
            None if line is None else line + 1,
        ) from exc
    if not isinstance(raw, dict):
        raise DataError(source, "expected keys positive_templates, negative_templates, examples")
    try:
        pools = Pools(
            positive=[Template(t["id"], t["text"]) for t in raw["positive_templates"]],
            negative=[Template(t["id"], t["text"]) for t in raw["negative_templates"]],
            examples=[
                Example(e["id"], e["input"], e["positive"], e["negative"]) for e in raw["examples"]
            ],
            digest=hashlib.sha256(text.encode()).hexdigest()[:16],
        )
    except (KeyError, TypeError) as exc:
        raise DataError(
            source,
            f"pools entry lacks a field ({exc}); templates need id and "
            "text, examples need id, input, positive, negative",
        ) from exc
    if not pools.positive or not pools.negative or not pools.examples:
        raise DataError(
            source,
            "each of positive_templates, negative_templates and examples needs at least one entry",
        )
    return pools


def read_word_list(path: Path | str | list[str] | None, bundled: str) -> list[str]:
    """One item a line; '#' starts a comment. Used for genres and topics: a file, a list of
    items as given, or None for the bundled list `bundled`."""
    if isinstance(path, (list, tuple)):
        items = [" ".join(str(i).split()) for i in path if str(i).strip()]
        if not items:
            raise DataError(bundled.removesuffix(".txt"), "an empty list")
        return items
    if path is None:
        text = resources.files("syncse.synthesis").joinpath(f"pools/{bundled}").read_text()
    else:
        if not Path(path).is_file():
            raise DataError(path, "no such file")
        text = Path(path).read_text(encoding="utf-8")
    items = [line.split("#")[0].strip() for line in text.splitlines()]
    items = [i for i in items if i]
    if not items:
        raise DataError(path or bundled, "no entries (one per line)")
    return items
