"""The `syncse run` configuration: one YAML file for synthesize -> train -> evaluate -> report.

Each section is validated against the same typed configuration the CLI and the Python API use
(`SynthesisConfig`, `TrainingConfig`, `EvaluationConfig`), through pydantic, so a typo or a wrong
type is caught before anything runs and reported as `FILE:LINE: key: problem`.
Paths are relative to the current directory, as with the command-line flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from syncse.data.locations import data_dir_from_env
from syncse.errors import SyncseError
from syncse.evaluation.runner import EvaluationConfig
from syncse.pipeline.layout import RunLayout
from syncse.synthesis.config import SynthesisConfig
from syncse.training.config import TrainingConfig

TOP_KEYS = {"out", "model", "data_dir", "synthesis", "triplets", "training", "evaluation"}
#: Keys of the synthesis section that choose what to annotate (the rest is SynthesisConfig).
SOURCE_KEYS = {
    "mode",
    "input",
    "column",
    "n",
    "domain",
    "genres",
    "topics",
    "per_call",
    "generation_temperature",
    "split_sentences",
}
#: Keys the pipeline sets itself; a user setting them would be silently overridden.
MANAGED = {
    "synthesis": {"out", "data_dir", "if_changed"},
    "training": {"data", "out", "model", "data_dir", "resume", "overwrite"},
    # The start model's layers and pooling come from the training section.
    "evaluation": {"model", "data_dir", "layers", "pooling"},
}


@dataclass
class SynthesisSource:
    """What the LLM annotates: given sentences (partial) or sentences it writes (scratch)."""

    mode: str = "scratch"
    input: str | None = None
    column: str | None = None
    n: int = 200
    domain: str | None = None
    genres: Path | None = None
    topics: Path | None = None
    per_call: int = 10
    generation_temperature: float = 1.3  # scratch: the sentence-writing calls' temperature
    split_sentences: bool = True  # scratch: each sentence of a written line is an anchor


@dataclass
class RunConfig:
    path: Path
    out: Path
    model: str
    data_dir: Path | None
    source: SynthesisSource | None
    synthesis: SynthesisConfig | None
    triplets: Path
    training: TrainingConfig
    evaluation: EvaluationConfig | None
    #: Each section as the user wrote it (no defaults filled in). Stage keys are computed on
    #: the typed, effective settings above, never on these.
    sections: dict[str, Any] = field(default_factory=dict)
    #: The whole config as given (what the run folder's `config.yaml` holds).
    raw: dict[str, Any] = field(default_factory=dict)
    #: False when built by `run_config_from_dict` (`path` is then only a label).
    from_file: bool = True

    @property
    def layout(self) -> RunLayout:
        return RunLayout(self.out)

    @property
    def model_dir(self) -> Path:
        return self.layout.model_dir


class _Lines:
    """Maps a key path in the YAML to its line, for `FILE:LINE` error messages."""

    def __init__(self, text: str) -> None:
        try:
            self.root = yaml.compose(text)
        except yaml.YAMLError:
            self.root = None

    def line(self, *keys: Any) -> int | None:
        node, line = self.root, None
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                match = [(k, v) for k, v in node.value if k.value == str(key)]
                if not match:
                    break
                line, node = match[0][0].start_mark.line + 1, match[0][1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if key >= len(node.value):
                    break
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return line


def _fail(path: Path, lines: _Lines, keys: tuple, problem: str) -> SyncseError:
    line = lines.line(*keys)
    where = f"{path}:{line}" if line else str(path)
    key = ".".join(str(k) for k in keys)
    return SyncseError(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


def _validate(cls: type, data: dict, path: Path, lines: _Lines, section: str):
    """Build `cls` (a dataclass) from `data` through pydantic; unknown keys are errors."""
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    # Strict about unknown keys for this class and every nested dataclass (a typo must not be
    # silently ignored), without making the dataclasses themselves depend on pydantic.
    for klass in _dataclasses_in(cls):
        klass.__pydantic_config__ = ConfigDict(extra="forbid")
    try:
        return TypeAdapter(cls).validate_python(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(k for k in error["loc"] if not str(k).startswith("function-"))
        unknown = {"extra_forbidden", "unexpected_keyword_argument"}
        problem = "unknown key" if error["type"] in unknown else error["msg"]
        keys = (section, *loc) if section else loc
        raise _fail(path, lines, keys, problem) from None


def _dataclasses_in(cls: type) -> list[type]:
    import dataclasses
    import typing

    found, todo = [], [cls]
    while todo:
        klass = todo.pop()
        if dataclasses.is_dataclass(klass) and klass not in found:
            found.append(klass)
            hints = typing.get_type_hints(klass)
            todo += [h for h in hints.values() if dataclasses.is_dataclass(h)]
    return found


def load_run_config(path: str | Path) -> RunConfig:
    path = Path(path)
    if not path.is_file():
        raise SyncseError(f"{path}: no such config file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SyncseError(
            f"{path}:{line}: not UTF-8 (byte {exc.start}); save the config as UTF-8"
        ) from None
    lines = _Lines(text)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SyncseError(f"{where}: not valid YAML ({problem})") from None
    return _from_mapping(raw, path, lines, from_file=True)


def run_config_from_dict(raw: dict[str, Any], origin: str = "run config") -> RunConfig:
    """The same config built from a mapping rather than a YAML file (experiments, notebooks):
    the same validation, with `origin` naming it in error messages. `syncse run` saves it as
    the run folder's `config.yaml` all the same."""
    return _from_mapping(raw, Path(origin), _Lines(""), from_file=False)


def _from_mapping(raw: Any, path: Path, lines: _Lines, from_file: bool) -> RunConfig:
    if not isinstance(raw, dict):
        raise SyncseError(f"{path}: expected a mapping of sections (out, synthesis, training, ...)")
    for key in raw:
        if key not in TOP_KEYS:
            raise _fail(path, lines, (key,), f"unknown key; expected one of {sorted(TOP_KEYS)}")
    for section in ("synthesis", "training", "evaluation"):
        value = raw.get(section)
        if value is not None and not isinstance(value, dict):
            raise _fail(path, lines, (section,), "expected a mapping")
        for key in MANAGED[section] & set(value or {}):
            raise _fail(path, lines, (section, key), "set by `syncse run`; remove it")
    if "out" not in raw:
        raise SyncseError(f"{path}: missing `out:` (the run's output folder)")
    out = Path(str(raw["out"]))
    model = str(raw.get("model", "minilm"))
    data_dir = Path(str(raw["data_dir"])) if raw.get("data_dir") else None
    data_dir = data_dir or data_dir_from_env()
    # Resolved once here, so `../shared/data/senteval` and its absolute spelling key every stage
    # (synthesis, training, the shared start-model scores) the same way.
    data_dir = data_dir.resolve() if data_dir else None

    source = synthesis = None
    if raw.get("synthesis") is not None:
        if raw.get("triplets"):
            raise _fail(path, lines, ("triplets",), "give either synthesis or triplets, not both")
        section = dict(raw["synthesis"])
        source_part = {k: section.pop(k) for k in list(section) if k in SOURCE_KEYS}
        source = _validate(SynthesisSource, source_part, path, lines, "synthesis")
        if source.mode not in ("partial", "scratch"):
            raise _fail(path, lines, ("synthesis", "mode"), "use partial or scratch")
        if source.mode == "partial" and not source.input:
            raise _fail(path, lines, ("synthesis",), "partial mode needs `input:` (sentences)")
        # The run folder is the pipeline's own: triplets from other settings are replaced by a
        # fresh file (the response cache keeps every answer), never mixed with new ones.
        section |= {
            "out": str(RunLayout(out).triplets),
            "data_dir": data_dir,
            "if_changed": "restart",
        }
        synthesis = _validate(SynthesisConfig, section, path, lines, "synthesis")
        triplets = Path(synthesis.out)
    elif raw.get("triplets"):
        triplets = Path(str(raw["triplets"]))
    else:
        raise SyncseError(f"{path}: give a `synthesis:` section or `triplets:` (a data file)")

    training_section = dict(raw.get("training") or {})
    training_section |= {
        "data": str(triplets),
        "out": str(RunLayout(out).model_dir),
        "model": model,
        "data_dir": data_dir,
    }
    training = _validate(TrainingConfig, training_section, path, lines, "training")

    evaluation = None
    if raw.get("evaluation", {}) is not None:
        eval_section = dict(raw.get("evaluation") or {})
        eval_section |= {"model": model, "data_dir": data_dir or Path("<unset>")}
        evaluation = _validate(EvaluationConfig, eval_section, path, lines, "evaluation")
    return RunConfig(
        path=path,
        out=out,
        model=model,
        data_dir=data_dir,
        source=source,
        synthesis=synthesis,
        triplets=triplets,
        training=training,
        evaluation=evaluation,
        sections={k: raw.get(k) for k in ("synthesis", "training", "evaluation", "triplets")},
        raw=raw,
        from_file=from_file,
    )
