"""The NLI judge: label log-probabilities from real local models, in-process and through a
real llama-server, cached, and used by `syncse stats`, `syncse filter` and inline synthesis."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest

from syncse.synthesis.backends import BackendConfig, create_backend
from syncse.synthesis.caller import CachedCaller
from syncse.synthesis.nli import LABELS, NLIJudge, label_of_token, label_scores, verdict_from
from syncse.synthesis.store import ResponseCache

#: Pairs no annotator would disagree on (none is from SICK).
CLEAR = [
    ("A man is playing a guitar on a stage.", "A person is playing an instrument.", "entailment"),
    ("A man is playing a guitar on a stage.", "Nobody is playing any instrument.", "contradiction"),
    ("Two dogs are running through a field.", "Two animals are running outside.", "entailment"),
    (
        "Two dogs are running through a field.",
        "Two dogs are sleeping in a kennel.",
        "contradiction",
    ),
    ("A girl is eating an apple in a park.", "A girl is eating fruit.", "entailment"),
    ("A girl is eating an apple in a park.", "The girl is not eating anything.", "contradiction"),
]


@pytest.mark.parametrize(
    ("token", "label"),
    [
        ("ent", "entailment"),
        (" Ent", "entailment"),
        ("entailment", "entailment"),
        ("neutral", "neutral"),
        ("ne", "neutral"),
        ("contr", "contradiction"),
        ("Contradiction", "contradiction"),
        ("yes", None),
        ("e", None),
        ("\n", None),
    ],
)
def test_first_answer_tokens_map_to_the_label_they_start(token, label):
    assert label_of_token(token) == label


def test_label_scores_sum_the_tokens_of_a_label_and_missing_labels_are_impossible():
    scores = label_scores({"ent": math.log(0.3), "Ent": math.log(0.2), "con": math.log(0.1)})
    assert scores["entailment"] == pytest.approx(math.log(0.5))
    assert scores["contradiction"] == pytest.approx(math.log(0.1))
    assert scores["neutral"] == -math.inf


async def _judge_all(model: str, cache: Path, pairs):
    backend = create_backend(BackendConfig(kind="llama-cpp", model=model))
    store = ResponseCache(cache)
    caller = CachedCaller(backend, store)
    judge = NLIJudge(caller.ask)
    try:
        verdicts = [await judge.label(p, h) for p, h, _ in pairs]
    finally:
        await backend.aclose()
        store.close()
    return verdicts, caller.usage


def test_the_judge_scores_every_pair_from_logprobs_and_a_rerun_is_free(tmp_path):
    verdicts, usage = asyncio.run(_judge_all("smollm2-135m", tmp_path / "c.sqlite", CLEAR))
    assert usage.calls == len(CLEAR)
    for v in verdicts:
        assert v.method == "logprobs"
        assert v.label in LABELS
        assert sum(v.probabilities.values()) == pytest.approx(1.0)
        assert v.label == max(v.probabilities, key=v.probabilities.get)
    again, usage = asyncio.run(_judge_all("smollm2-135m", tmp_path / "c.sqlite", CLEAR))
    assert usage.calls == 0 and usage.cache_hits == len(CLEAR)
    assert [v.probabilities for v in again] == [v.probabilities for v in verdicts]


def test_prefix_reuse_gives_the_same_logprobs_as_a_fresh_context(tmp_path):
    """The scoring path reuses the context's cached prompt prefix; a verdict must not depend
    on what the context evaluated before (a fresh context per pair is the reference)."""
    together, _ = asyncio.run(_judge_all("smollm2-135m", tmp_path / "a.sqlite", CLEAR))
    for i, pair in enumerate(CLEAR[::-1]):  # another order, each pair in a fresh cache+context
        alone, _ = asyncio.run(_judge_all("smollm2-135m", tmp_path / f"b{i}.sqlite", [pair]))
        reference = together[len(CLEAR) - 1 - i].probabilities
        for label in LABELS:
            assert alone[0].probabilities[label] == pytest.approx(reference[label], abs=2e-3)


def test_judges_taking_turns_on_one_context_each_keep_their_few_shot_prefix(tmp_path):
    """Scratch rows are judged by the anchor judge, then the NLI judge, row after row, on one
    context. Each judge's few-shot turns are evaluated once: a later call evaluates only what
    follows them (with the context holding one prefix, every switch re-evaluated the whole
    prompt: 5-7 s a verdict for the 1.5B on 2 cores). Verdicts are those of a fresh context."""
    from syncse.synthesis.nli import AnchorJudge

    async def take_turns():
        backend = create_backend(BackendConfig(kind="llama-cpp", model="smollm2-135m"))
        await backend.check()
        llm = backend._contexts[0]
        evaluated: list[int] = []
        real_eval = llm.eval
        llm.eval = lambda tokens: (evaluated.append(len(tokens)), real_eval(tokens))[1]
        caller = CachedCaller(backend, ResponseCache(tmp_path / "turns.sqlite"))
        anchors, nli = AnchorJudge(caller.ask), NLIJudge(caller.ask)
        verdicts = []
        try:
            for premise, hypothesis, _ in CLEAR:
                await anchors.label(premise)
                verdicts.append(await nli.label(premise, hypothesis))
        finally:
            await backend.aclose()
        return evaluated, verdicts

    evaluated, verdicts = asyncio.run(take_turns())
    first = min(evaluated[:2])  # each judge's first prompt, evaluated whole
    assert all(n < first / 2 for n in evaluated[2:]), evaluated
    alone, _ = asyncio.run(_judge_all("smollm2-135m", tmp_path / "alone.sqlite", CLEAR))
    for together, reference in zip(verdicts, alone, strict=True):
        for label in LABELS:
            assert together.probabilities[label] == pytest.approx(
                reference.probabilities[label], abs=2e-3
            )


@pytest.mark.slow
def test_the_best_local_judge_labels_clear_pairs_right(tmp_path):
    verdicts, _ = asyncio.run(_judge_all("qwen2.5-coder-1.5b", tmp_path / "c.sqlite", CLEAR))
    right = sum(v.label == gold for v, (_, _, gold) in zip(verdicts, CLEAR, strict=True))
    assert right >= 5, [v.label for v in verdicts]


def test_a_server_without_logprobs_falls_back_to_the_answer_text():
    from syncse.synthesis.backends import Completion

    v = verdict_from(Completion(text="contradiction"), "k")
    assert (v.label, v.method, v.probabilities) == ("contradiction", "text", None)
    assert verdict_from(Completion(text="Sure! Here"), "k").label is None


def test_llama_server_offers_logprobs_and_agrees_with_the_in_process_judge(
    tmp_path, llama_server_binary
):
    """Through the OpenAI-compatible path (the real llama-server syncse starts)."""

    async def through_server():
        backend = create_backend(BackendConfig(kind="llama-server", model="smollm2-135m"))
        await backend.check()
        store = ResponseCache(tmp_path / "s.sqlite")
        judge = NLIJudge(CachedCaller(backend, store).ask)
        try:
            return [await judge.label(p, h) for p, h, _ in CLEAR]
        finally:
            await backend.aclose()
            store.close()

    served = asyncio.run(through_server())
    local, _ = asyncio.run(_judge_all("smollm2-135m", tmp_path / "l.sqlite", CLEAR))
    assert all(v.method == "logprobs" for v in served)
    agree = sum(a.label == b.label for a, b in zip(served, local, strict=True))
    assert agree >= len(CLEAR) - 1, ([v.label for v in served], [v.label for v in local])


def _rows(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


ROWS = [
    {"sent0": p, "sent1": CLEAR[i][1], "hard_neg": CLEAR[i + 1][1]}
    for i, (p, _, _) in enumerate(CLEAR)
    if i % 2 == 0
]


def test_stats_prints_the_valid_rate_by_the_judge_and_filter_keeps_only_valid_rows(
    tmp_path, syncse_cli
):
    data = _rows(tmp_path / "t.jsonl", ROWS)
    code, err = syncse_cli("stats", data)
    assert code == 0, err
    assert "not measured" in syncse_cli.stdout
    code, err = syncse_cli("stats", data, "--nli-judge", "smollm2-135m", "--json", tmp_path / "s")
    assert code == 0, err
    found = json.loads((tmp_path / "s").read_text())["nli"]
    assert found["rows_judged"] == len(ROWS)
    assert "valid triplets (NLI judge" in syncse_cli.stdout
    code, err = syncse_cli(
        "filter", data, "--out", tmp_path / "kept.jsonl", "--nli-judge", "smollm2-135m"
    )
    assert code == 0, err
    kept = [json.loads(x) for x in (tmp_path / "kept.jsonl").read_text().splitlines()]
    rejected = [
        json.loads(x) for x in (tmp_path / "kept.jsonl.rejected.jsonl").read_text().splitlines()
    ]
    assert len(kept) + len(rejected) == len(ROWS)
    for row in kept:
        assert row["nli"]["positive"]["label"] == "entailment"
        assert row["nli"]["negative"]["label"] == "contradiction"
    for row in rejected:
        assert row["reason"].startswith("nli_")
    if kept:  # the kept file's recorded verdicts are what stats reports, with no new call
        code, err = syncse_cli("stats", tmp_path / "kept.jsonl", "--json", tmp_path / "k")
        recorded = json.loads((tmp_path / "k").read_text()).get("nli")
        assert recorded["valid_rate"] == 1.0 and recorded["rows_judged"] == len(kept)
        # ... and the table says the 1.000 is the filter's doing, not a quality figure
        assert "by construction" in syncse_cli.stdout, syncse_cli.stdout
    summary = json.loads((tmp_path / "kept.jsonl.summary.json").read_text())
    assert summary["nli"]["rows_judged"] == len(ROWS)
    assert summary["nli"]["valid_rate"] == pytest.approx(len(kept) / len(ROWS))


def test_filter_judges_the_anchors_of_a_scratch_file_and_not_of_a_partial_one(tmp_path, syncse_cli):
    """Scratch anchors are the LLM's own sentences: `syncse filter` judges them as synthesis
    does (the file's summary says which mode wrote it), so meta-text can be dropped later."""
    from syncse.synthesis.summary import RunUsage, SynthesisSummary

    meta = {
        "sent0": "Here are ten sentences about travel and food.",
        "sent1": "Here are sentences about travel.",
        "hard_neg": "There are no sentences.",
    }
    found = {}
    for mode in ("scratch", "partial"):
        data = _rows(tmp_path / f"{mode}.jsonl", [*ROWS, meta])
        SynthesisSummary(output=str(data), rejected_file="", accepted=len(ROWS) + 1,
                         rejected={}, this_run=RunUsage(), backend="test",
                         config_fingerprint="test", mode=mode).save()  # fmt: skip
        out = tmp_path / f"{mode}.kept.jsonl"
        code, err = syncse_cli("filter", data, "--out", out, "--nli-judge", "smollm2-135m")
        assert code == 0, err
        rows = [json.loads(x) for f in (out, Path(f"{out}.rejected.jsonl")) if f.exists()
                for x in f.read_text().splitlines()]  # fmt: skip
        assert len(rows) == len(ROWS) + 1
        found[mode] = (rows, json.loads(Path(f"{out}.summary.json").read_text())["nli"])
    scratch_rows, scratch_rates = found["scratch"]
    assert all(r["nli"]["anchor"]["label"] in ("yes", "no") for r in scratch_rows)
    assert "bad_anchor_rate" in scratch_rates
    for row in scratch_rows:
        if row["nli"]["anchor"]["label"] == "no":
            assert row["reason"] == "nli_bad_anchor"
    partial_rows, partial_rates = found["partial"]
    assert not any("anchor" in r["nli"] for r in partial_rows)
    assert "bad_anchor_rate" not in partial_rates


def test_a_label_bias_moves_the_decision_but_not_the_recorded_probabilities():
    from syncse.synthesis.backends import Completion

    answer = Completion(
        text="contr",
        top_logprobs={"contr": math.log(0.6), "neutral": math.log(0.3), "ent": math.log(0.1)},
    )
    plain = verdict_from(answer, "k")
    shifted = verdict_from(answer, "k", LABELS, {"contradiction": -3.0, "entailment": 2.25})
    assert plain.label == "contradiction"
    assert shifted.label == "entailment"  # log 0.1 + 2.25 > log 0.3 > log 0.6 - 3
    assert shifted.probabilities == plain.probabilities
    assert shifted.method == "logprobs+bias"


def test_shipped_calibrations_are_found_by_model_whatever_the_backend():
    from syncse.synthesis.nli import calibration_for

    local = calibration_for("llama-cpp:qwen2.5-coder-1.5b")
    assert local is not None and set(local) == set(LABELS)
    assert calibration_for("llama-server:qwen2.5-coder-1.5b") == local
    assert calibration_for("openai:gpt-4o-mini") is None


def test_inline_nli_judge_rejects_with_the_reason_and_a_rewrite_asks_the_failed_side_again(
    tmp_path, syncse_cli
):
    """Inline judge: kept rows carry an entailed positive and a contradicting negative, and
    rejected ones their reason. Then --nli-rewrites 1 against that run (same seeds, so the
    first versions are the same rows): every row the judge rejected is asked again on the
    failed side only, with a template other than the one that failed, and no row kept
    without it is lost."""
    src = tmp_path / "in.txt"
    src.write_text("\n".join(p for p, _, _ in CLEAR[::2]) + "\n")

    def run(out: Path, *extra: str) -> tuple[dict, dict]:
        code, err = syncse_cli(
            "synthesize", "partial", "--input", src, "--out", out,
            "--nli-judge", "writer", "--no-decontaminate", *extra,
        )  # fmt: skip
        assert code == 0, err
        rows = {}
        for path in (out, Path(f"{out}.rejected.jsonl")):
            if path.exists():
                rows |= {r["key"]: r for r in map(json.loads, path.read_text().splitlines())}
        return rows, json.loads(Path(f"{out}.summary.json").read_text())

    once, first_summary = run(tmp_path / "once.jsonl")
    for row in once.values():
        if "reason" not in row:
            assert row["nli"]["positive"]["label"] == "entailment"
            assert row["nli"]["negative"]["label"] == "contradiction"
    judged = [r for r in once.values() if r.get("reason", "nli_").startswith("nli_")]
    assert first_summary["checks"]["nli"]["rows_judged"] == len(judged)
    assert "rewrites" not in first_summary["checks"]["nli"]

    again, summary = run(tmp_path / "again.jsonl", "--nli-rewrites", "1")
    # First-written rates are the writer's, whatever the rewrites did afterwards.
    assert summary["checks"]["nli"]["valid_rate"] == first_summary["checks"]["nli"]["valid_rate"]
    assert once.keys() == again.keys()
    first_rejected = {k: r for k, r in once.items() if r.get("reason", "").startswith("nli_")}
    assert first_rejected, "the writer's rows all passed; the test needs a rejected one"
    for key, first in first_rejected.items():
        side = "positive" if first["reason"].startswith("nli_positive") else "negative"
        column, other = ("sent1", "hard_neg") if side == "positive" else ("hard_neg", "sent1")
        row = again[key]
        (rewrite,) = row["nli"]["rewritten"]
        assert rewrite["side"] == side
        assert rewrite["template"] != rewrite["replaced_template"]
        assert rewrite["replaced_text"] == first[column]
        assert row[other] == first[other]  # the side that passed is not asked again
    for key, first in once.items():
        if "reason" not in first:
            assert "reason" not in again[key] and again[key]["sent1"] == first["sent1"]
    counts = summary["this_run"]["counts"]
    rewrites = summary["checks"]["nli"]["rewrites"]
    assert rewrites["rows_judged"] == counts.get("nli_rewrite_positive", 0) + counts.get(
        "nli_rewrite_negative", 0
    )
    kept_by_rewrite = [r for r in again.values() if "reason" not in r and "rewritten" in r["nli"]]
    assert rewrites["valid"] == len(kept_by_rewrite)


def test_rewrites_without_a_judge_are_a_one_line_error(tmp_path, syncse_cli):
    src = tmp_path / "in.txt"
    src.write_text("A man is playing a guitar on a stage.\n")
    out = tmp_path / "o.jsonl"
    code, err = syncse_cli(
        "synthesize", "partial", "--input", src, "--out", out, "--nli-rewrites", "1"
    )  # fmt: skip
    assert code != 0
    assert "--nli-rewrites 1: needs --nli-judge" in err and "Traceback" not in err
    assert not out.exists()


def test_a_dumped_response_cache_loads_into_a_fresh_one_and_keeps_what_is_there(tmp_path):
    """The answers behind a published dataset travel as text; loading them twice, or over
    answers already cached, changes nothing."""
    first = ResponseCache(tmp_path / "a.sqlite")
    first.put("k1", "one", 10, 2)
    first.put("k2", "two\nlines", 11, 3)
    assert first.dump(tmp_path / "answers.jsonl") == 2
    first.close()
    fresh = ResponseCache(tmp_path / "b.sqlite")
    fresh.put("k2", "already here", 1, 1)
    assert fresh.load(tmp_path / "answers.jsonl") == 1
    assert fresh.load(tmp_path / "answers.jsonl") == 0
    assert fresh.get("k1") == ("one", 10, 2)
    assert fresh.get("k2") == ("already here", 1, 1)
    fresh.close()
