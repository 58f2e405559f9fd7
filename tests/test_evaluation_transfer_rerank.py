import json

import numpy as np
import pytest

from syncse.data.corpora import read_flickr8k
from syncse.evaluation.encoding import CachedEncoder
from syncse.evaluation.reranking import (
    FileRerankTask,
    Flickr8kCaptionRerank,
    bm25_matrix,
    build_flickr8k_rerank,
    rerank_metrics,
)
from syncse.evaluation.transfer import MR, SST2, TREC


def test_mr_probe_beats_chance_by_far(minilm, senteval_dir):
    result = MR(senteval_dir, limit=600).evaluate(CachedEncoder(minilm))
    assert result["n"] == 600
    assert len(result["chosen_C"]) == 10
    assert result["accuracy"] > 65  # a random encoder sits near 50


@pytest.mark.slow  # ~20 s of probe fitting; MR's probe (fast suite) covers the same code
def test_sst2_and_trec_use_given_splits(minilm, senteval_dir):
    encoder = CachedEncoder(minilm)
    sst = SST2(senteval_dir, limit=400).evaluate(encoder)
    assert sst["n_test"] == 400 and sst["accuracy"] > 65
    trec = TREC(senteval_dir, limit=600).evaluate(encoder)
    assert trec["n_test"] == 500  # test split smaller than the limit: kept whole
    assert trec["accuracy"] > 50  # six classes: chance is ~20


def test_bm25_prefers_shared_rare_words():
    vectorizer, weights = bm25_matrix(["a dog on grass", "a cat on a sofa", "zebra grass field"])
    q = (vectorizer.transform(["zebra grass"]) > 0).astype(float)
    scores = (q @ weights.T).toarray().ravel()
    assert scores.argmax() == 2 and scores[0] > scores[1] == 0


def test_flickr8k_rerank_is_built_from_test_images_deterministically(flickr8k_dir):
    by_image = read_flickr8k(flickr8k_dir, "test")
    assert len(by_image) == 1000
    # A few caption texts belong to several images ("A dog runs through the grass ."): a text
    # maps to every image it captions.
    owners: dict[str, set[str]] = {}
    for img, caps in by_image.items():
        for c in caps:
            owners.setdefault(c, set()).add(img)
    samples = build_flickr8k_rerank(flickr8k_dir, limit=50)
    assert samples == build_flickr8k_rerank(flickr8k_dir, limit=50)
    for s in samples:
        assert len(s["positive"]) == 4 and len(s["negative"]) == 20
        images = owners[s["query"]]
        assert all(owners[p] & images for p in s["positive"])
        assert all(not owners[n] & images for n in s["negative"])
        assert s["query"] not in s["positive"]
    # Hard negatives share words with the query far more than random captions do.
    words = lambda t: set(t.lower().split()) - {"a", "the", "is", "in", "of", "on", "."}  # noqa: E731
    hard = np.mean([len(words(s["query"]) & words(n)) for s in samples for n in s["negative"]])
    rng = np.random.default_rng(0)
    pool = list(owners)
    rand = np.mean(
        [
            len(words(s["query"]) & words(pool[rng.integers(len(pool))]))
            for s in samples
            for _ in range(20)
        ]
    )
    assert hard > 2 * rand


def test_rerank_metrics_match_sentence_transformers_evaluator(minilm, flickr8k_dir):
    from sentence_transformers.sentence_transformer.evaluation import RerankingEvaluator

    samples = build_flickr8k_rerank(flickr8k_dir, limit=40)
    ours = rerank_metrics(CachedEncoder(minilm), samples)
    theirs = RerankingEvaluator(samples, at_k=10, batch_size=64, show_progress_bar=False)(minilm)
    map_key = next(k for k in theirs if k.endswith("map"))
    mrr_key = next(k for k in theirs if k.endswith("mrr@10"))
    assert abs(ours["map"] - theirs[map_key] * 100) < 0.01
    assert abs(ours["mrr@10"] - theirs[mrr_key] * 100) < 0.01


def test_full_flickr_task_and_user_file(minilm, senteval_dir, tmp_path):
    result = Flickr8kCaptionRerank(senteval_dir, limit=200).evaluate(CachedEncoder(minilm))
    assert result["n_queries"] == 200 and 30 < result["map"] < 100
    path = tmp_path / "mine.jsonl"
    rows = [
        {
            "query": "a dog runs on the beach",
            "positive": ["a dog running along the shore"],
            "negative": ["a man cooks pasta", "stock prices fell sharply"],
        }
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    mine = FileRerankTask(path).evaluate(CachedEncoder(minilm))
    assert mine["map"] == 100.0 and mine["mrr@10"] == 100.0
