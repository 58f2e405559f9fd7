import json

import pytest

from syncse.data.corpora import evaluation_sentences
from syncse.data.text import match_key
from syncse.synthesis import BackendConfig, SamplingConfig, SynthesisConfig, synthesize_partial
from syncse.synthesis.parsing import parse_list, parse_sentence, split_sentences
from syncse.synthesis.pools import load_pools
from syncse.synthesis.store import ResultStore

SENTENCES = [
    "A man is riding a horse on the beach.",
    "A woman is cooking pasta in a kitchen.",
    "A dog jumps over a log in the forest.",
    "The old man reads a newspaper on a bench.",
    "Three girls are dancing on a stage.",
    "A boy throws a red ball to his father.",
]


def _smollm2() -> str:
    from syncse.synthesis.backends.llama_cpp_backend import resolve_gguf

    return str(resolve_gguf("smollm2-135m"))


@pytest.fixture(scope="module")
def python_server():
    """A real OpenAI-compatible server (llama-cpp-python's) on 127.0.0.1 with the bundled GGUF."""
    from syncse.synthesis.backends.llama_cpp_python_server import python_server

    with python_server(_smollm2(), alias="smollm2") as url:
        yield url


def test_pools_are_big_enough_and_sampling_is_seeded():
    import random

    pools = load_pools()
    assert len(pools.positive) >= 4 and len(pools.negative) >= 4 and len(pools.examples) >= 18
    a = pools.sample("negative", 5, random.Random("s:1"))
    b = pools.sample("negative", 5, random.Random("s:1"))
    assert a == b and len({e.id for e in a[1]}) == 5


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("A dog runs.", "A dog runs."),
        (
            'Sure! Here is a paraphrase:\n1. "The man rides a horse along the shore."',
            "The man rides a horse along the shore.",
        ),
        ("Sentence: A woman prepares food.", "A woman prepares food."),
        ('{"sentence": "Kids play outside."}', "Kids play outside."),
        ("**Contradiction:** The dog sleeps at home.", "The dog sleeps at home."),
        ("I'm sorry, I cannot help with that.", None),
        ("", None),
    ],
)
def test_parse_sentence_tolerates_chatter(answer, expected):
    assert parse_sentence(answer) == expected


def test_parse_list_strips_numbering():
    text = "Here are the sentences:\n1. The river floods.\n2) Prices rose again today.\n- ok\n"
    assert parse_list(text) == ["The river floods.", "Prices rose again today."]


def test_split_sentences_keeps_abbreviations_and_drops_an_unfinished_last_sentence():
    lines = [
        "Dr. Smith moved to the U.S. in 2019. He paid $3.5 million for a house.",
        "Thanks. The river floods every spring.",
        "The children ran towards the",
    ]
    whole = [
        "Dr. Smith moved to the U.S. in 2019.",
        "He paid $3.5 million for a house.",
        "The river floods every spring.",  # "Thanks." is under three words
    ]
    assert split_sentences(lines, truncated=True) == whole
    # Not cut at max_tokens: the model ended there, so the last line stays.
    assert split_sentences(lines) == [*whole, "The children ran towards the"]
    # Cut, but at a sentence's end: nothing is unfinished.
    assert split_sentences(lines[:2], truncated=True) == whole


def test_decontamination_removes_flickr_captions_seen_in_sts(senteval_dir, flickr8k_dir):
    banned = evaluation_sentences(senteval_dir)
    captions = [
        line.split("\t", 1)[1]
        for line in (flickr8k_dir / "Flickr8k.token.txt").read_text().splitlines()
        if "\t" in line
    ]
    contaminated = [c for c in captions if match_key(c) in banned]
    assert len(contaminated) > 1000  # thousands of Flickr captions are STS/SICK test sentences
    from collections import Counter

    from syncse.synthesis.config import FilterConfig
    from syncse.synthesis.selection import select_inputs

    selection = select_inputs(
        [(c, {}) for c in captions[:5000]], "fp", FilterConfig(), banned, set()
    )
    kept = {match_key(i.sentence) for i in selection.todo}
    assert not kept & banned
    reasons = Counter(reason for _, reason in selection.rejected)
    assert reasons["contaminated_input"] == len(
        {match_key(c) for c in captions[:5000] if match_key(c) in banned}
    )


def test_llama_cpp_backend_partial_cache_and_resume(tmp_path, senteval_dir):
    out = tmp_path / "p.jsonl"
    config = SynthesisConfig(
        out=out,
        data_dir=senteval_dir,
        backend=BackendConfig(kind="llama-cpp", model="smollm2-135m"),
        sampling=SamplingConfig(examples_per_call=2, max_tokens=40),
    )
    first = synthesize_partial(config, SENTENCES[:3])
    assert first["accepted"] + sum(first["rejected"].values()) == 3
    assert first["accepted"] >= 1  # SmolLM2 writes usable rows for simple captions
    assert first["this_run"]["llm_calls"] >= 3
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    for row in rows:
        assert row["sent0"] in SENTENCES and row["sent1"] and row["hard_neg"]
        assert row["pos_template"].startswith("pos-") and len(row["pos_examples"]) == 2
    # Resume: the done inputs cost nothing; only the new ones are asked.
    second = synthesize_partial(config, SENTENCES[:4])
    assert second["this_run"]["llm_calls"] >= 1 and second["this_run"]["cache_hits"] == 0
    assert second["accepted"] + sum(second["rejected"].values()) == 4
    # Identical re-run from scratch (outputs gone, cache kept): all answers from the cache.
    text = out.read_text()
    out.unlink()
    out.with_name(out.name + ".rejected.jsonl").unlink()
    third = synthesize_partial(config, SENTENCES[:4])
    assert third["this_run"]["llm_calls"] == 0 and third["this_run"]["cache_hits"] > 0
    assert sorted(out.read_text().splitlines()) == sorted(text.splitlines())


def test_torn_last_line_is_repaired_on_resume(tmp_path):
    out = tmp_path / "t.jsonl"
    out.write_text('{"key": "a", "sent0": "x", "sent1": "y", "hard_neg": "z"}\n{"key": "b", "se')
    store = ResultStore(out)
    assert store.done == {"a"}
    store.close()
    assert out.read_text().endswith("}\n") and len(out.read_text().splitlines()) == 1


def test_openai_backend_against_real_local_server(python_server, tmp_path):
    out = tmp_path / "o.jsonl"
    config = SynthesisConfig(
        out=out,
        backend=BackendConfig(
            kind="openai",
            model="smollm2",
            base_url=python_server,
            concurrency=2,
            price_per_million=(0.15, 0.6),
        ),
        sampling=SamplingConfig(examples_per_call=2, max_tokens=40),
    )
    summary = synthesize_partial(config, SENTENCES[:4])
    assert summary["accepted"] + sum(summary["rejected"].values()) == 4
    assert summary["accepted"] >= 1 and len(out.read_text().splitlines()) == summary["accepted"]
    assert summary["this_run"]["prompt_tokens"] > 100  # usage counted from the server
    assert summary["this_run"]["estimated_cost_usd"] > 0
    assert summary["backend"] == "openai:smollm2"


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        (lambda p: p.write_bytes(b"\x00\x01\x02binary"), [], "looks binary"),
        (lambda p: p.write_bytes("caf\xe9\n".encode("latin-1")), [], "not UTF-8"),
        (lambda p: p.write_text(""), [], "no sentences"),
        (lambda p: p.write_text("x" * 1_000_001 + "\n"), [], "characters"),
        (lambda p: p.write_text("a,b\n1,2\n"), ["--suffix", ".csv"], "no column 'text'"),
        (
            lambda p: p.write_text('{"text": "ok fine"}\n{bad\n'),
            ["--suffix", ".jsonl"],
            ":2: invalid JSON",
        ),
        (
            lambda p: p.write_text("A dog runs on grass.\n"),
            ["--model", "/nope.gguf"],
            "no such GGUF",
        ),
        (lambda p: p.write_text("A dog runs on grass.\n"), ["--model", "FAKE"], "not a GGUF"),
        (
            lambda p: p.write_text("A dog runs on grass.\n"),
            ["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
            + ["--max-retries", "0"],
            "cannot connect",
        ),
        (
            lambda p: p.write_text("A dog runs on grass.\n"),
            ["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1"],
            "--model: name the model http://127.0.0.1:9/v1 serves",
        ),
        (
            lambda p: p.write_text("A dog runs on grass.\n"),
            ["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
            + ["--api-key-env", "SYNCSE_UNSET_KEY"],
            "--api-key-env SYNCSE_UNSET_KEY: that variable is not set",
        ),
        (lambda p: p.mkdir(), [], "is a folder"),
        (
            lambda p: p.write_text("A dog runs on grass.\n"),
            ["--max-tokens", "0"],
            "--max-tokens 0: must be at least 1",
        ),
    ],
)
def test_bad_synthesis_input_is_one_line_error(tmp_path, syncse_cli, setup, args, expected):
    suffix = ".txt"
    if "--suffix" in args:
        suffix = args[args.index("--suffix") + 1]
        args = args[: args.index("--suffix")] + args[args.index("--suffix") + 2 :]
    data = tmp_path / f"in{suffix}"
    setup(data)
    if "FAKE" in args:
        fake = tmp_path / "fake.gguf"
        fake.write_bytes(b"NOTGGUF" * 10)
        args = [str(fake) if a == "FAKE" else a for a in args]
    code, err = syncse_cli(
        "synthesize", "partial", "--input", data, "--out", tmp_path / "o.jsonl", *args
    )
    assert code == 2, err[-2000:]
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error:") and expected in last, err[-2000:]
    assert not (tmp_path / "o.jsonl").exists()  # no output that could look like a result


def test_scratch_writes_sentences_then_annotates(tmp_path, senteval_dir):
    from syncse.synthesis import synthesize_scratch

    out = tmp_path / "s.jsonl"
    config = SynthesisConfig(
        out=out, data_dir=senteval_dir, sampling=SamplingConfig(examples_per_call=2, max_tokens=40)
    )
    summary = synthesize_scratch(config, n=3, per_call=5, max_rounds=2)
    assert summary["generation_calls"] >= 1 and summary["generated_sentences"] >= 3
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert 1 <= len(rows) <= 3 and summary["accepted"] == len(rows)
    for row in rows:
        assert row["genre"] and len(row["topics"]) == 3 and row["generation_response"]
        # Each anchor is one sentence, cut out of the line the model wrote.
        assert split_sentences([row["sent0"]]) == [row["sent0"]]
    # Resume with the same n: nothing left to do, so no new LLM calls.
    again = synthesize_scratch(config, n=len(rows), per_call=5, max_rounds=2)
    assert again["this_run"]["llm_calls"] == 0
    # A top-up replays the calls the rows came from (cached) and plans new ones past them in
    # its first round, instead of one round per few cached calls.
    behind = max(r["generation_call"] for r in rows) + 1
    more = synthesize_scratch(config, n=len(rows) + 1, per_call=5, max_rounds=1)
    assert more["generation_calls"] > behind


def test_flickr8k_captions_are_decontaminated_train_captions(senteval_dir):
    from syncse.data.corpora import evaluation_sentences, flickr8k_captions, read_flickr8k
    from syncse.data.text import match_key

    small, large = flickr8k_captions(senteval_dir, 50), flickr8k_captions(senteval_dir, 500)
    assert small == large[:50]  # a bigger run extends a smaller one
    assert len(set(large)) == 500
    banned = evaluation_sentences(senteval_dir)
    assert not [c for c in large if match_key(c) in banned]
    train = {
        c
        for caps in read_flickr8k(senteval_dir.parent / "flickr8k", "train").values()
        for c in caps
    }
    assert set(large) <= train


def test_block_size_shares_prompts_within_a_block_and_changes_the_fingerprint(tmp_path):
    """Inputs of one block get one template and exemplar set per kind (so llama.cpp reuses
    the prompt prefix); the next block samples afresh; block 1 keeps the old fingerprint."""
    sampling = SamplingConfig(examples_per_call=2, max_tokens=32)
    config = SynthesisConfig(out=tmp_path / "b.jsonl", sampling=sampling, block_size=3)
    summary = synthesize_partial(config, SENTENCES)
    assert summary["accepted"] + sum(summary["rejected"].values()) == len(SENTENCES)
    rows = [json.loads(x) for x in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert rows
    for row in rows:
        first_of_block = next(r for r in rows if r["input_index"] // 3 == row["input_index"] // 3)
        if row["pos_attempts"] == first_of_block["pos_attempts"] == 1:
            assert row["pos_template"] == first_of_block["pos_template"]
            assert row["pos_examples"] == first_of_block["pos_examples"]
    blocks = {r["input_index"] // 3: tuple(r["pos_examples"]) for r in rows}
    if len(blocks) > 1:  # the next block samples afresh
        assert len(set(blocks.values())) > 1
    per_call = SynthesisConfig(out=tmp_path / "c.jsonl", sampling=sampling)
    assert config.fingerprint("p") != per_call.fingerprint("p")


def test_requests_carry_no_unread_json_mode_and_keys_stay_what_they_were():
    """`json_mode` was never set nor read: gone from requests, still in the cache key and the
    fingerprint (always False) so that cached answers and stored rows keep their keys."""
    from dataclasses import fields

    from syncse.synthesis.backends.base import ChatRequest

    assert "json_mode" not in {f.name for f in fields(ChatRequest)}
    messages = (("system", "s"), ("user", "A dog runs."))
    request = ChatRequest(messages=messages, temperature=1.0, top_p=0.9, max_tokens=80, seed=7)
    scored = ChatRequest(messages=(("user", "Label it."),), max_tokens=1, top_logprobs=5)
    # Keys computed by syncse before the change.
    assert request.cache_key("llama-cpp:smollm2-135m") == (
        "d83ebc5718875f0a47dc0044f8d76a5c7476142380d4df938aee07e67ed82df1"
    )
    assert scored.cache_key("llama-cpp:smollm2-135m") == (
        "ed749e34740d438495e7494f388866e0e7009762b57ed7804fba7c5f00f5554e"
    )
    assert SynthesisConfig(out="x").fingerprint("p") == "62b5e84a0d537283"
    assert SynthesisConfig(out="x", block_size=1).fingerprint("p") == "c31ea977233c2ec9"
