"""Raw backbone slices before any training: how many layers and which pooling, at what speed.

For a raw language model (default `lm:smollm2-135m`) keep the first K layers, pool with each
mode, and measure (a) STS-B dev Spearman x100 of the untrained encoder on a fixed 1,000-pair
subsample and (b) encoding speed, the median of --repeats timings of 512 STS-B dev sentences
at batch 64, with all-MiniLM-L6-v2 timed in the same run as the baseline.

    python bench/bench_backbones.py [--model lm:smollm2-135m] [--layers 1,2,4,8]
        [--pooling mean,weightedmean,lasttoken] [--repeats 3]

Prints a markdown table. Speed does not depend on the pooling, so it is timed once per depth.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def sentences_per_second(model, sentences: list[str], repeats: int) -> float:
    model.encode(sentences[:64], batch_size=64)  # warm-up
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.encode(sentences, batch_size=64)
        timings.append(time.perf_counter() - start)
    return len(sentences) / statistics.median(timings)


def main() -> None:
    from transformers.utils import logging as hf_logging

    from syncse.backbones import BackboneOptions
    from syncse.data.locations import resolve_data_dir
    from syncse.data.senteval import load_stsb_dev
    from syncse.evaluation.encoding import CachedEncoder
    from syncse.evaluation.sts import correlations, cosine_scores
    from syncse.models import load_encoder

    hf_logging.set_verbosity_error()
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default="lm:smollm2-135m")
    parser.add_argument("--layers", default="1,2,4,8")
    parser.add_argument("--pooling", default="mean,weightedmean,lasttoken")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    default = Path(__file__).parents[2] / "shared/data/senteval"
    data_dir = resolve_data_dir(args.data_dir or os.environ.get("SYNCSE_DATA_DIR") or default)
    dev = load_stsb_dev(data_dir)
    timing_sentences = dev.left[:512]
    dev = dev.subsample(1000)
    baseline = sentences_per_second(
        load_encoder("minilm", device="cpu"), timing_sentences, args.repeats
    )
    rows = [
        "| model | layers | pooling | STS-B dev (untrained) | sentences/s | vs all-MiniLM-L6-v2 |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for layers in (int(x) for x in args.layers.split(",")):
        speed = None
        for pooling in args.pooling.split(","):
            options = BackboneOptions(layers=layers, pooling=pooling)  # type: ignore[arg-type]
            model = load_encoder(args.model, device="cpu", options=options)
            if speed is None:
                speed = sentences_per_second(model, timing_sentences, args.repeats)
            score = correlations(cosine_scores(CachedEncoder(model, 64), dev), dev.gold)
            rows.append(
                f"| {args.model} | {layers} | {pooling} | {score['spearman']:.2f} | "
                f"{speed:.0f} | {speed / baseline:.2f}x |"
            )
            print(rows[-1], flush=True)
    rows.append(f"| all-MiniLM-L6-v2 | 6 | mean | (trained) | {baseline:.0f} | 1.00x |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
