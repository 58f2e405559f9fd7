"""Blind hand-labelled samples: how valid are the triplets, and does the NLI judge agree?

    python experiments/blind_labels.py make --set NAME=FILE [--set ...] --rows 60 --sick 20 \\
        --out datasets/blind-labels/ROUND
    # a person (or a helper session) labels ROUND/items.jsonl into ROUND/labels.jsonl, seeing
    # nothing else: one {"id": ..., "label": "entailment|neutral|contradiction"} per item
    python experiments/blind_labels.py score --out datasets/blind-labels/ROUND \\
        [--judge qwen2.5-coder-1.5b]

`make` draws `--rows` rows from each set (fixed seed) and `--sick` SICK-train anchors that have
both a human entailment and a human contradiction (a control with known labels), turns every
row into two items (anchor + positive, anchor + negative), and shuffles all items together.
`items.jsonl` holds only an item id, the premise and the hypothesis: no set, no role (positive
or negative), no verdict. `key.jsonl` (which the labeller must not open) maps ids back.

`templates` reports, per prompt template, the blind share of hypotheses that are what the
template asked for (entailment for a positive, contradiction for a negative).

`score` reports per set the positive-entailed, negative-contradicts, valid (both) and
negative-entailed rates by the blind labels, the labeller's agreement with SICK's human labels
on the control items, and, with `--judge`, the NLI judge's agreement with the blind labels on
the same items, with and without its shipped calibration (verdicts are cached).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from collections import Counter
from pathlib import Path

from nli_judge_sick import biased_labels, judge_split  # the same judge and decision rule

from syncse.synthesis.checks import wilson

ROOT = Path(__file__).resolve().parents[1]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def sick_triplets(n: int, seed: int) -> list[tuple[str, str, str]]:
    """SICK-train anchors with a human entailment and a human contradiction."""
    from syncse.data.senteval import load_sick_nli

    pairs = load_sick_nli(ROOT.parent / "shared" / "data" / "senteval", "train")
    by_premise: dict[str, dict[str, str]] = {}
    for p, h, label in zip(pairs.premises, pairs.hypotheses, pairs.labels, strict=True):
        by_premise.setdefault(p, {}).setdefault(label, h)
    both = sorted(
        (p, d["entailment"], d["contradiction"])
        for p, d in by_premise.items()
        if "entailment" in d and "contradiction" in d
    )
    return random.Random(seed).sample(both, n)


def make(sets: list[str], rows: int, sick: int, out: Path, seed: int) -> None:
    rng = random.Random(seed)
    items, key = [], []
    for spec in sets:
        name, path = spec.split("=", 1)
        found = _jsonl(Path(path))
        picked = rng.sample(range(len(found)), min(rows, len(found)))
        for index in picked:
            row = found[index]
            for role, column in (("positive", "sent1"), ("negative", "hard_neg")):
                items.append({"premise": row["sent0"], "hypothesis": row[column]})
                key.append({"set": name, "row": index, "role": role})
    for i, (premise, pos, neg) in enumerate(sick_triplets(sick, seed)):
        for role, hypothesis, human in (
            ("positive", pos, "entailment"),
            ("negative", neg, "contradiction"),
        ):
            items.append({"premise": premise, "hypothesis": hypothesis})
            key.append({"set": "sick-train", "row": i, "role": role, "human": human})
    order = list(range(len(items)))
    rng.shuffle(order)
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "items.jsonl", [{"id": f"i{n:04d}"} | items[i] for n, i in enumerate(order)])
    _write(out / "key.jsonl", [{"id": f"i{n:04d}"} | key[i] for n, i in enumerate(order)])
    print(f"{len(items)} items in {out / 'items.jsonl'}; key in {out / 'key.jsonl'}")


def _as_filter(rows, key, judged, what) -> dict:
    """Per set, the judge as a filter: its valid rate, and the blind valid rate of the rows
    it keeps (what training on the filtered set gets) against that of all rows."""
    verdicts: dict[tuple[str, int], dict[str, str | None]] = {}
    for item_id, k in key.items():
        verdicts.setdefault((k["set"], k["row"]), {})[k["role"]] = judged[(what, item_id)]

    def valid(labels: dict) -> bool:
        return labels["positive"] == "entailment" and labels["negative"] == "contradiction"

    found = {}
    for name in sorted({s for s, _ in rows}):
        ids = [r for r in rows if r[0] == name]
        kept = [r for r in ids if valid(verdicts[r])]
        found[name] = {
            "rows": len(ids),
            "judge_valid_rate": len(kept) / len(ids),
            "blind_valid_of_kept": (
                sum(valid(rows[r]) for r in kept) / len(kept) if kept else None
            ),
            "blind_valid_of_all": sum(valid(rows[r]) for r in ids) / len(ids),
            "judge_agrees_on_valid": sum(valid(verdicts[r]) == valid(rows[r]) for r in ids)
            / len(ids),
        }
    return found


def score(out: Path, judge: str | None) -> dict:
    items = {i["id"]: i for i in _jsonl(out / "items.jsonl")}
    key = {k["id"]: k for k in _jsonl(out / "key.jsonl")}
    labels = {r["id"]: r["label"] for r in _jsonl(out / "labels.jsonl")}
    missing = [i for i in items if i not in labels]
    if missing:
        raise SystemExit(f"{len(missing)} items have no label (first: {missing[0]})")
    result: dict = {"items": len(items), "sets": {}}
    rows: dict[tuple[str, int], dict[str, str]] = {}
    for item_id, k in key.items():
        rows.setdefault((k["set"], k["row"]), {})[k["role"]] = labels[item_id]
    for name in sorted({s for s, _ in rows}):
        mine = [r for (s, _), r in rows.items() if s == name]
        n = len(mine)
        valid = sum(
            r["positive"] == "entailment" and r["negative"] == "contradiction" for r in mine
        )
        result["sets"][name] = {
            "rows": n,
            "positive_entailed": sum(r["positive"] == "entailment" for r in mine) / n,
            "negative_contradicts": sum(r["negative"] == "contradiction" for r in mine) / n,
            "valid": valid / n,
            "negative_entailed": sum(r["negative"] == "entailment" for r in mine) / n,
        }
        result["sets"][name]["valid_95"] = [round(x, 3) for x in wilson(valid, n)]
    controls = [i for i, k in key.items() if "human" in k]
    if controls:
        result["labeller_vs_sick_humans"] = sum(
            labels[i] == key[i]["human"] for i in controls
        ) / len(controls)
    if judge:
        from syncse.synthesis.nli import calibration_for

        ids = sorted(items)
        verdicts, _, _ = asyncio.run(
            judge_split(
                judge, [items[i]["premise"] for i in ids], [items[i]["hypothesis"] for i in ids]
            )
        )
        bias = calibration_for(f"llama-cpp:{judge}") or {}
        result["judge"] = {"model": judge, "bias": bias}
        judged: dict[tuple[str, str], str | None] = {}
        for what, decided in (
            ("argmax", [v.label for v in verdicts]),
            ("calibrated", biased_labels(verdicts, bias)),
        ):
            agree: Counter[str] = Counter()
            for item_id, label in zip(ids, decided, strict=True):
                agree["all"] += label == labels[item_id]
                agree[key[item_id]["role"]] += label == labels[item_id]
                judged[(what, item_id)] = label
            roles = Counter(key[i]["role"] for i in ids)
            result["judge"][what] = {
                "agreement": agree["all"] / len(ids),
                **{f"agreement_{r}": agree[r] / roles[r] for r in roles},
                "sets": _as_filter(rows, key, judged, what),
            }
    (out / "score.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return result


def templates(out: Path, sets: list[str]) -> dict:
    """Blind rates per prompt template: does a template mostly yield what it was asked for?

    `sets` (NAME=FILE, the files the round was made from) give each row's templates. When the
    sets partition one population (say the rows a judge kept and those it rejected), each row
    counts with weight (rows in its set) / (rows drawn from it), so the rates estimate the whole
    population rather than the mix the round happened to draw."""
    key = [k for k in _jsonl(out / "key.jsonl") if "human" not in k]
    labels = {r["id"]: r["label"] for r in _jsonl(out / "labels.jsonl")}
    files = {name: _jsonl(Path(path)) for name, path in (s.split("=", 1) for s in sets)}
    drawn = Counter(k["set"] for k in key if k["role"] == "positive")
    wanted = {"positive": "entailment", "negative": "contradiction"}
    tally: dict[tuple[str, str], list[float]] = {}
    for k in key:
        row = files[k["set"]][k["row"]]
        weight = len(files[k["set"]]) / drawn[k["set"]]
        template = row["pos_template" if k["role"] == "positive" else "neg_template"]
        t = tally.setdefault((k["role"], template), [0.0, 0.0, 0.0, 0])
        t[0] += weight
        t[1] += weight * (labels[k["id"]] == wanted[k["role"]])
        t[2] += weight * (labels[k["id"]] == "entailment")
        t[3] += 1
    found = {
        f"{role}/{template}": {
            "rows": n,
            "as_asked": round(ok / w, 3),
            "entailment": round(ent / w, 3),
        }
        for (role, template), (w, ok, ent, n) in sorted(tally.items())
    }
    print(json.dumps(found, indent=1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("--set", action="append", required=True, help="NAME=triplets.jsonl")
    m.add_argument("--rows", type=int, default=60)
    m.add_argument("--sick", type=int, default=20)
    m.add_argument("--seed", type=int, default=7)
    m.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("score")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--judge", default=None)
    t = sub.add_parser("templates")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--set", action="append", required=True, help="NAME=triplets.jsonl")
    args = parser.parse_args()
    if args.command == "make":
        make(args.set, args.rows, args.sick, args.out, args.seed)
    elif args.command == "templates":
        result = templates(args.out, args.set)
        (args.out / "templates.json").write_text(json.dumps(result, indent=1) + "\n")
    else:
        score(args.out, args.judge)


if __name__ == "__main__":
    main()
