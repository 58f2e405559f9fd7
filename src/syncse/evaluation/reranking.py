"""Reranking tasks (MTEB format): rank a query's candidates; MAP and MRR@10.

A sample is {"query": str, "positive": [str], "negative": [str]}. Scores are cosine
similarities; MAP uses scikit-learn's average precision per query, as
sentence-transformers' RerankingEvaluator does. We compute the metric here rather than call
that evaluator because it encodes every candidate list anew, while candidate lists overlap
heavily (Flickr8k: 5,000 queries share 5,000 captions);
`tests/test_evaluation_transfer_rerank.py` checks that both give the same numbers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.metrics import average_precision_score

from syncse.data.corpora import read_flickr8k
from syncse.data.jsonl import iter_jsonl
from syncse.data.locations import find_flickr8k_dir
from syncse.data.sampling import subsample_indices
from syncse.errors import DataError, SyncseError
from syncse.evaluation.encoding import CachedEncoder
from syncse.evaluation.tasks import MTEB_RERANK, RERANK, Task, register_task

RerankSample = dict[str, Any]


def rerank_metrics(encoder: CachedEncoder, samples: list[RerankSample]) -> dict[str, Any]:
    texts = [s["query"] for s in samples]
    for s in samples:
        texts += s["positive"] + s["negative"]
    encoder.encode(texts)  # one batched pass over the distinct texts; lookups below are cached
    aps, rrs = [], []
    for s in samples:
        if not s["positive"] or not s["negative"]:
            continue  # MTEB skips samples without both kinds; AP/MRR would be trivial
        query = encoder.encode([s["query"]])[0]
        docs = encoder.encode(s["positive"] + s["negative"])
        scores = docs @ query
        labels = np.array([1] * len(s["positive"]) + [0] * len(s["negative"]))
        aps.append(average_precision_score(labels, scores))
        top = np.argsort(-scores, kind="stable")[:10]
        hits = np.flatnonzero(labels[top])
        rrs.append(1.0 / (hits[0] + 1) if len(hits) else 0.0)
    if not aps:
        raise SyncseError(
            "reranking: no sample has both a positive and a negative; nothing to rank"
        )
    return {
        "map": float(np.mean(aps) * 100),
        "mrr@10": float(np.mean(rrs) * 100),
        "n_queries": len(aps),
    }


def hub_offline() -> bool:
    """The Hugging Face hub is switched off for this process (either of its variables)."""
    return os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1"


def load_rerank_samples(source: str | Path) -> list[RerankSample]:
    """Load MTEB-format samples from a .jsonl/.json/.parquet file or, online, a hub dataset."""
    path = Path(source)
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            samples = [row for _, row in iter_jsonl(path, handle)]
    elif path.suffix in (".parquet", ".json"):
        import datasets

        kind = "parquet" if path.suffix == ".parquet" else "json"
        samples = list(datasets.load_dataset(kind, data_files=str(path), split="train"))
    else:
        if hub_offline():
            raise SyncseError(f"{source}: not a local .jsonl/.parquet file and the hub is offline")
        import datasets

        try:
            samples = list(datasets.load_dataset(str(source), split="test"))
        except Exception as exc:  # network/hub errors vary by version; the message matters
            raise SyncseError(f"{source}: could not load from the hub ({exc})") from exc
    for number, sample in enumerate(samples, start=1):
        missing = {"query", "positive", "negative"} - set(sample)
        if missing:
            raise DataError(path, f"sample lacks {sorted(missing)}", number)
        for key in ("positive", "negative"):
            if isinstance(sample[key], str):
                sample[key] = [sample[key]]
    if not samples:  # MAP over no queries is NaN, which would pass as a score
        raise DataError(path, "no reranking samples (query, positive, negative) in the file")
    return samples


class HubRerankTask(Task):
    """An MTEB reranking set: `<data-dir>/rerank/<Name>.jsonl` if present, else the hub."""

    category = MTEB_RERANK
    main_metric = "map"
    hub_name: ClassVar[str]

    def _local(self) -> Path:
        return self.data_dir / "rerank" / f"{self.name}.jsonl"

    def required_files(self) -> list[Path]:
        return []

    def check_files(self) -> None:
        """Offline and not in the data folder: fail before any other task spends its time."""
        if hub_offline() and not self._local().exists():
            raise DataError(
                self._local(),
                f"missing file for task {self.name}, and the hub ({self.hub_name}) is offline; "
                "put the MTEB file there or leave out mteb-rerank",
            )

    def evaluate(self, encoder: CachedEncoder) -> dict[str, Any]:
        source = self._local() if self._local().exists() else self.hub_name
        samples = _limited(load_rerank_samples(source), self.limit)
        return rerank_metrics(encoder, samples) | {"source": str(source)}


for _name, _hub in [
    ("AskUbuntuDupQuestions", "mteb/askubuntudupquestions-reranking"),
    ("MindSmallReranking", "mteb/mind_small"),
    ("SciDocsRR", "mteb/scidocs-reranking"),
    ("StackOverflowDupQuestions", "mteb/stackoverflowdupquestions-reranking"),
]:
    register_task(type(_name, (HubRerankTask,), {"name": _name, "hub_name": _hub}))


class FileRerankTask(Task):
    """A user's own reranking file, named after the file (`--rerank-file PATH`)."""

    category = RERANK
    main_metric = "map"

    def __init__(self, path: Path, limit: int | None = None) -> None:
        super().__init__(path.parent, limit)
        self.path = path
        self.name = path.stem  # type: ignore[misc]
        self._samples: list[RerankSample] | None = None  # read once, by check_files

    def required_files(self) -> list[Path]:
        return [self.path]

    def check_files(self) -> None:
        """Read the file up front: an empty or broken file fails before any task encodes."""
        super().check_files()
        self._samples = load_rerank_samples(self.path)

    def evaluate(self, encoder: CachedEncoder) -> dict[str, Any]:
        samples = self._samples if self._samples is not None else load_rerank_samples(self.path)
        return rerank_metrics(encoder, _limited(samples, self.limit))


def bm25_matrix(docs: list[str], k1: float = 1.5, b: float = 0.75):
    """Okapi BM25 document-term weights as a sparse matrix, so scoring all queries against all
    documents is one sparse product. Written here because rank_bm25 scores one query at a
    time with a Python loop over documents: 5,000 x 5,000 captions would take minutes."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(lowercase=True, stop_words="english")
    tf = vectorizer.fit_transform(docs).tocsr().astype(np.float64)
    n_docs = tf.shape[0]
    doc_len = np.asarray(tf.sum(axis=1)).ravel()
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = np.log((n_docs - df + 0.5) / (df + 0.5) + 1.0)  # Lucene's non-negative idf
    norm = k1 * (1 - b + b * doc_len / max(doc_len.mean(), 1e-9))
    rows = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
    tf.data = tf.data * (k1 + 1) / (tf.data + norm[rows]) * idf[tf.indices]
    return vectorizer, tf


def build_flickr8k_rerank(
    directory: Path, negatives: int = 20, limit: int | None = None
) -> list[RerankSample]:
    """Each test-image caption is a query; its image's other captions are the positives; the
    `negatives` captions of *other* images with the highest BM25 score against the query are
    the hard negatives (ties by caption order). Deterministic."""
    by_image = read_flickr8k(directory, "test")
    docs, owner = [], []
    for image, caps in by_image.items():
        docs += caps
        owner += [image] * len(caps)
    owner_arr = np.asarray(owner)
    vectorizer, weights = bm25_matrix(docs)
    queries = (vectorizer.transform(docs) > 0).astype(np.float64)
    picked = subsample_indices(len(docs), limit)
    samples = []
    for start in range(0, len(picked), 500):
        chunk = picked[start : start + 500]
        scores = (queries[chunk] @ weights.T).toarray()
        for row, qi in enumerate(chunk):
            same = owner_arr == owner[qi]
            s = np.where(same, -np.inf, scores[row])
            positives = [docs[j] for j in np.flatnonzero(same) if j != qi]
            banned = {docs[qi], *positives}
            order = np.argsort(-s, kind="stable")
            chosen = [docs[j] for j in order[: negatives * 2] if docs[j] not in banned]
            samples.append(
                {
                    "query": docs[qi],
                    "positive": positives,
                    "negative": list(dict.fromkeys(chosen))[:negatives],
                }
            )
    return samples


def _limited(samples: list[RerankSample], limit: int | None) -> list[RerankSample]:
    return [samples[i] for i in subsample_indices(len(samples), limit)]


@register_task
class Flickr8kCaptionRerank(Task):
    """Offline reranking built from Flickr8k's 1,000 test images (docs/evaluation.md)."""

    name = "Flickr8kCaptionRerank"
    category = RERANK
    main_metric = "map"

    def _dir(self) -> Path:
        return find_flickr8k_dir(self.data_dir)

    def required_files(self) -> list[Path]:
        return [self._dir() / "Flickr8k.token.txt", self._dir() / "Flickr_8k.testImages.txt"]

    def evaluate(self, encoder: CachedEncoder) -> dict[str, Any]:
        return rerank_metrics(encoder, build_flickr8k_rerank(self._dir(), limit=self.limit))
