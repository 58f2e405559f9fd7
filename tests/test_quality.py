"""Row checks (the LLM judge, encoder agreement), scratch's anchor rules and guided training,
on the real bundled models."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from syncse.errors import SyncseError
from syncse.synthesis import SamplingConfig, SynthesisConfig, synthesize_partial
from syncse.synthesis.checks import position_bias
from syncse.synthesis.config import FilterConfig
from syncse.synthesis.filters import is_about_itself
from syncse.synthesis.judge import parse_verdict

CAPTIONS = [
    "A man is riding a horse on the beach.",
    "A woman is cooking pasta in a kitchen.",
    "A dog jumps over a log in the forest.",
    "Three girls are dancing on a stage.",
]
ROWS = [
    # a good row: paraphrase positive, contradicting negative
    ("A man is riding a horse on the beach.", "A person rides a horse by the sea.",
     "A man is sleeping in his bed."),
    # the negative is the anchor again in other words, the positive is unrelated
    ("Two children play football in a park.", "The stock market fell sharply on Monday.",
     "Two kids are playing soccer in a park."),
    # the positive is the anchor with one word changed
    ("A woman is cooking pasta in a kitchen.", "A woman is cooking pasta in the kitchen.",
     "Nobody is in the kitchen."),
]  # fmt: skip


def _jsonl(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def _write_rows(path, rows=ROWS):
    path.write_text(
        "".join(
            json.dumps({"sent0": a, "sent1": p, "hard_neg": n, "id": i}) + "\n"
            for i, (a, p, n) in enumerate(rows)
        )
    )
    return path


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("A: entailment\nB: contradiction", {"A": "entailment", "B": "contradiction"}),
        ("A is neutral; B contradicts it.", {"A": "neutral", "B": "contradiction"}),
        ("**A**: Entailment, **B**: neither", {"A": "entailment", "B": "neutral"}),
        ("B: entailed\nA: contradiction", {"A": "contradiction", "B": "entailment"}),
        ("A: entailment", None),
        ("I think both are fine.", None),
    ],
)
def test_judge_answers_are_read_leniently_and_incomplete_ones_are_not_guessed(answer, expected):
    assert parse_verdict(answer) == expected


def test_position_bias_warns_only_when_verdicts_follow_the_order():
    reads_content = Counter(
        {("pn", True): 14, ("pn", False): 11, ("np", True): 12, ("np", False): 13}
    )
    reads_position = Counter(
        {("pn", True): 25, ("pn", False): 0, ("np", True): 1, ("np", False): 24}
    )
    too_few = Counter({("pn", True): 5, ("np", False): 5})
    assert "warning" not in position_bias(reads_content)
    assert "position" in position_bias(reads_position)["warning"]
    assert "warning" not in position_bias(too_few)
    assert position_bias(reads_position)["kept_share_by_order"] == {"pn": 1.0, "np": 1 / 25}


def test_a_judge_giving_one_verdict_to_every_row_is_called_out():
    from syncse.synthesis.checks import JudgeCheck

    check = JudgeCheck(judge=None)  # the summary only reads the counts
    check.by_order.update({("pn", False): 30, ("np", False): 30})  # no position bias...
    check.verdicts.update({"contradiction/contradiction": 59, "None/None": 1})
    assert "one verdict" in check.position_bias()["warning"]  # ...but blind all the same
    check.verdicts.update({"entailment/contradiction": 20})
    assert "warning" not in check.position_bias()


@pytest.mark.parametrize(
    ("sentence", "about_itself"),
    [
        ("These sentences can be a great example of how different writing styles merge.", True),
        ("The third sentence is a personal opinion.", True),
        ("So here are 10 things that go perfectly with my favorite dishes.", True),
        ("Sentence 1: Business and work, business and economy.", True),
        ("A dog runs across the snowy field.", False),
        ("The museum reopened after a decade of renovation work.", False),
        ("She read the first chapter of the book on the train.", False),
    ],
)
def test_sentences_about_themselves_are_recognised(sentence, about_itself):
    assert is_about_itself(sentence) is about_itself


def test_agreement_filter_drops_negative_closer_and_near_copies(tmp_path, syncse_cli):
    source = _write_rows(tmp_path / "t.jsonl")
    out = tmp_path / "kept.jsonl"
    code, err = syncse_cli("filter", source, "--out", out, "--agreement-encoder", "minilm")
    assert code == 0, err
    kept = [json.loads(x) for x in out.read_text().splitlines()]
    rejected = [
        json.loads(x) for x in (tmp_path / "kept.jsonl.rejected.jsonl").read_text().splitlines()
    ]
    assert [r["id"] for r in kept] == [0]
    assert {r["id"]: r["reason"] for r in rejected} == {
        1: "agreement_negative_closer",
        2: "agreement_positive_near_copy",
    }
    # What the encoder found is kept with each row, so a reader can check the decision.
    assert kept[0]["agreement"]["positive"] > kept[0]["agreement"]["negative"]
    summary = json.loads((tmp_path / "kept.jsonl.summary.json").read_text())
    assert summary["kept"] == 1 and summary["rows"] == 3
    assert any("human-trained encoder" in w for w in summary["warnings"])
    assert "human-trained encoder" in err


def test_filter_reads_every_file_training_reads_as_training_reads_it(tmp_path, syncse_cli):
    """One reader: SimCSE CSV, the other column names, surrounding spaces and too long lines
    mean the same to `syncse filter` as to `syncse train`."""
    import csv

    from syncse.data.triplets import load_triplets

    named = tmp_path / "named.jsonl"
    named.write_text(
        "".join(
            json.dumps({"anchor": f" {a} ", "positive": p, "negative": n}) + "\n"
            for a, p, n in ROWS
        )
    )
    simcse = tmp_path / "simcse.csv"
    with simcse.open("w", newline="") as handle:
        csv.writer(handle).writerows([("sent0", "sent1", "hard_neg"), *ROWS])
    for source in (named, simcse):
        out = tmp_path / f"kept-{source.stem}.jsonl"
        code, err = syncse_cli("filter", source, "--out", out, "--agreement-encoder", "minilm")
        assert code == 0, err
        summary = json.loads(out.with_name(out.name + ".summary.json").read_text())
        assert summary["rows"] == len(load_triplets(source)) == len(ROWS)
        assert summary["kept"] == 1  # the same verdicts as on the SimCSE-named JSONL
    long = tmp_path / "long.jsonl"
    _write_rows(long, [("a b c " * 3000, "d e f", "g h i")])
    with pytest.raises(SyncseError, match="long.jsonl:1: anchor of 18000 characters"):
        load_triplets(long)
    code, err = syncse_cli("filter", long, "--out", tmp_path / "o.jsonl", "--judge")
    assert code == 2 and "long.jsonl:1: anchor of 18000 characters" in err


def test_filter_refuses_nothing_to_do_and_overwriting_its_input(tmp_path, syncse_cli):
    source = _write_rows(tmp_path / "t.jsonl")
    code, err = syncse_cli("filter", source, "--out", tmp_path / "o.jsonl")
    assert code == 2 and "nothing to check" in err
    code, err = syncse_cli("filter", source, "--out", source, "--agreement-encoder", "minilm")
    assert code == 2 and "overwrite the input" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"sent0": "a b c", "sent1": "d e f"}\n')
    code, err = syncse_cli("filter", bad, "--out", tmp_path / "o.jsonl", "--judge")
    assert code == 2 and "bad.jsonl:1" in err and "negative" in err


def test_llm_judge_over_a_file_costs_one_call_per_row_and_resumes_from_the_cache(
    tmp_path, syncse_cli
):
    source = _write_rows(tmp_path / "t.jsonl")
    out = tmp_path / "judged.jsonl"
    code, err = syncse_cli("filter", source, "--out", out, "--judge")
    assert code == 0, err
    summary = json.loads((tmp_path / "judged.jsonl.summary.json").read_text())
    kept = [json.loads(x) for x in out.read_text().splitlines()]
    rejected_file = tmp_path / "judged.jsonl.rejected.jsonl"
    rejected = [json.loads(x) for x in rejected_file.read_text().splitlines()]
    assert len(kept) + len(rejected) == len(ROWS)
    assert summary["judge"]["llm_calls"] == len(ROWS)  # at most one extra call per row
    for row in kept:
        assert row["judge"]["positive"] == "entailment"
        assert row["judge"]["negative"] == "contradiction"
    for row in rejected:
        assert row["reason"].startswith("judge_")
        assert row["judge"]["order"] in ("pn", "np") and row["judge"]["response"]
    # Interrupted or repeated: every judgement comes from the cache, the same verdicts.
    code, err = syncse_cli("filter", source, "--out", out, "--judge")
    assert code == 0, err
    again = json.loads((tmp_path / "judged.jsonl.summary.json").read_text())
    assert again["judge"]["llm_calls"] == 0 and again["judge"]["cache_hits"] == len(ROWS)
    assert again["rejected"] == summary["rejected"]


def test_inline_judge_records_verdicts_and_is_part_of_the_files_identity(tmp_path):
    out = tmp_path / "p.jsonl"
    sampling = SamplingConfig(examples_per_call=2, max_tokens=32)
    config = SynthesisConfig(out=out, sampling=sampling, filters=FilterConfig(judge=True))
    summary = synthesize_partial(config, CAPTIONS)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    rejected = [
        json.loads(x) for x in (tmp_path / "p.jsonl.rejected.jsonl").read_text().splitlines()
    ]
    judged = [r for r in rows + rejected if "judge" in r]
    assert all("judge" in r for r in rows)
    assert all(r["reason"].startswith("judge_") for r in rejected if "judge" in r)
    # One judge call per row that reached it, on top of the writing calls.
    answers = summary["this_run"]["answers"]
    writing_calls = sum(answers.values())
    assert summary["this_run"]["llm_calls"] == writing_calls + len(judged)
    assert set(summary["checks"]["judge"]["rows_by_order"]) == {"pn", "np"}
    # The same file without the judge is another dataset: refused, not silently mixed.
    plain = SynthesisConfig(out=out, sampling=sampling)
    with pytest.raises(SyncseError, match="if_changed='restart'"):
        synthesize_partial(plain, CAPTIONS)


def test_scratch_anchors_keep_the_length_rule_and_do_not_describe_themselves(
    tmp_path, senteval_dir
):
    from syncse.data.text import match_key
    from syncse.synthesis import synthesize_scratch

    out = tmp_path / "s.jsonl"
    config = SynthesisConfig(
        out=out,
        data_dir=senteval_dir,
        sampling=SamplingConfig(examples_per_call=2, max_tokens=40),
        filters=FilterConfig(max_anchor_words=20),
    )
    synthesize_scratch(config, n=3, per_call=5, max_rounds=4)
    rows = _jsonl(out)
    rejected = [
        json.loads(x) for x in (tmp_path / "s.jsonl.rejected.jsonl").read_text().splitlines()
    ]
    assert rows
    assert all(len(match_key(r["sent0"]).split()) <= 20 for r in rows)
    assert not [r for r in rows if is_about_itself(r["sent0"])]
    too_long = [r for r in rejected if r["reason"] == "input_too_long"]
    assert too_long and all(len(match_key(r["sent0"]).split()) > 20 for r in too_long)


def test_guided_loss_masks_an_in_batch_false_negative(minilm):
    """Adding a second paraphrase of the first anchor to a batch gives plain in-batch negatives
    a false negative to push away (the loss rises); the guide masks it (the loss stays)."""
    import torch

    from syncse.training.config import TrainingConfig
    from syncse.training.trainer import build_loss

    anchors = [
        "A man is playing a guitar.",
        "A man plays the guitar.",
        "A cat sleeps on a sofa.",
        "Kids swim in a lake.",
    ]
    positives = ["Someone plays a guitar.", "A person is playing guitar.",
                 "A cat naps on a couch.", "Children are swimming in a lake."]  # fmt: skip

    def loss_of(loss, rows):
        features = [minilm.preprocess([anchors[i] for i in rows]),
                    minilm.preprocess([positives[i] for i in rows])]  # fmt: skip
        with torch.no_grad():
            return loss(features, None).item()

    def rise(loss):
        return loss_of(loss, [0, 1, 2, 3]) - loss_of(loss, [0, 2, 3])

    plain = build_loss(minilm, TrainingConfig(data="x", out="y"))
    guided = build_loss(minilm, TrainingConfig(data="x", out="y", guide_model="minilm"))
    assert rise(plain) > 0.2
    assert abs(rise(guided)) < 0.05
