"""Re-quantized local models: how much faster on this CPU, and how far from the original.

CPU speed depends on the weights' storage format as much as on the model: llama.cpp repacks
some formats (Q4_0, IQ4_NL) into its fast x86 kernels and not others (the Qwen GGUF stores most
weights as Q5_0). Re-quantizing trades fidelity for speed, so the table puts both side by side:

    python bench/bench_quantization.py [--models smollm2-135m,qwen2.5-0.5b] \\
        [--formats Q8_0,Q4_0,IQ4_NL] [--repeats 3]

Each format is written from the preset's GGUF by `syncse.local_models.requantize` (llama.cpp's
own quantizer) into a temporary folder. Fidelity, the measure of llama.cpp's own
`llama-perplexity --kl-divergence`: on ~2,500 tokens of held-out Flickr8k captions (captions
200-400; the synthesis bench uses the first 100), in 512-token windows, the perplexity of each
file, the mean and 99th-percentile KL divergence of its next-token distribution from the
original's, and how often both pick the same most likely token. Q8_0 re-encodes the same
weights almost exactly, so its row is the floor of what the measure reads as a difference.
Speed: the bare runtime's ceiling (one context, all cores): a 256-token prompt from an empty
context and 48 tokens generated one at a time; medians of `--repeats`, formats interleaved.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_block_size import captions, ceiling  # noqa: E402


def log_probs(path: Path, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Next-token log-probabilities over `text` in 512-token windows, and the true next tokens."""
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(path),
        n_ctx=512,
        n_batch=512,
        n_threads=os.cpu_count(),
        logits_all=True,
        verbose=False,
    )
    tokens = llm.tokenize(text.encode())
    windows, targets = [], []
    for start in range(0, len(tokens) - 1, 511):  # windows overlap by the one token they predict
        chunk = tokens[start : start + 512]
        llm.reset()
        llm.eval(chunk)
        logits = np.array(llm.scores[: len(chunk)], dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        windows.append(logp[:-1])
        targets.append(np.array(chunk[1:]))
    llm.close()
    return np.concatenate(windows), np.concatenate(targets)


def perplexity(logp: np.ndarray, targets: np.ndarray) -> float:
    return float(np.exp(-logp[np.arange(len(targets)), targets].mean()))


def main() -> None:
    from syncse.local_models import requantize
    from syncse.synthesis.backends.llama_cpp_backend import resolve_gguf

    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-0.5b")
    parser.add_argument("--formats", default="Q8_0,Q4_0,IQ4_NL")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    text = "\n".join(captions(400)[200:])
    speed_text = captions(100)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            source = resolve_gguf(model)
            files = {"original": source}
            for fmt in args.formats.split(","):
                files[fmt] = requantize(source, Path(tmp) / f"{model}-{fmt}.gguf", fmt)
            speeds: dict[str, list[dict]] = {name: [] for name in files}
            for _ in range(args.repeats):
                for name, path in files.items():
                    speeds[name].append(ceiling(str(path), speed_text))
            base_logp, targets = log_probs(source, text)
            for name, path in files.items():
                logp = base_logp if name == "original" else log_probs(path, text)[0]
                kl = (np.exp(base_logp) * (base_logp - logp)).sum(axis=1)
                rows.append(
                    {
                        "model": model,
                        "format": name,
                        "mb": path.stat().st_size / 1e6,
                        "tokens": len(targets),
                        "ppl": perplexity(logp, targets),
                        "kl_mean": float(kl.mean()),
                        "kl_p99": float(np.quantile(kl, 0.99)),
                        "top1": float((base_logp.argmax(1) == logp.argmax(1)).mean()),
                        "prompt": statistics.median(s["prompt_tok_s"] for s in speeds[name]),
                        "gen": statistics.median(s["gen_tok_s"] for s in speeds[name]),
                    }
                )

    print(f"\n{args.repeats} repeats; {os.cpu_count()} cores; {rows[0]['tokens']} tokens scored\n")
    print(
        "| model | format | MB | perplexity | KL from original (mean / p99) | same top token | "
        "prompt tok/s | generated tok/s | prompt speed-up | generation speed-up |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        base = next(r for r in rows if r["model"] == row["model"] and r["format"] == "original")
        print(
            f"| {row['model']} | {row['format']} | {row['mb']:.0f} | {row['ppl']:.2f} | "
            f"{row['kl_mean']:.4f} / {row['kl_p99']:.3f} | {row['top1']:.1%} | "
            f"{row['prompt']:.0f} | {row['gen']:.1f} | {row['prompt'] / base['prompt']:.2f}x | "
            f"{row['gen'] / base['gen']:.2f}x |"
        )


if __name__ == "__main__":
    main()
