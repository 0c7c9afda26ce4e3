"""Throughput of three ways to score the same 2,000 texts, in one run on one machine.

(a) transformers.pipeline("text-classification", batch_size=32): the peer a user would write themselves
    (one pass per text, no sentence scores; truncation on so long articles don't crash it);
(b) overclaim's torch backend; (c) overclaim's ONNX int8 backend as it ships, rescoring with the fp32 export
the texts whose int8 score lies near the threshold (``int8_recheck``); (b) and (c) with sentence scores; and,
for reference, the ONNX fp32 backend and int8 alone (``int8_recheck=0``).

Each runs in its own process so peak RSS is its own. Prints posts/s (short posts and all texts), single-post
p50/p95 latency, peak RSS, and how int8 changes flagged-class F1 on the corpus test split and the pass rate of
every functional test.  Usage: python benchmarks/throughput.py [--model PATH] [--n 2000]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def texts(n: int, seed: int = 0) -> tuple[list[str], int]:
    """Mostly ~180-character posts, all distinct; every 20th text a multi-paragraph article of three long items.

    Distinct, because overclaim scores a repeated input once per call: repeats would flatter it against the
    pipeline, which scores every copy."""
    from overclaim.corpus import load_corpus

    records = load_corpus()
    rng = random.Random(seed)
    posts = [r["text"] for r in records if 120 <= len(r["text"]) <= 240]
    long = [r["text"] for r in records if len(r["text"]) > 500]
    n_long = n // 20
    if n - n_long > len(posts):
        raise ValueError(f"the corpus has {len(posts)} posts of 120-240 characters; ask for at most "
                         f"{len(posts) + len(posts) // 19} texts")
    short = iter(rng.sample(posts, n - n_long))
    out = ["\n\n".join(rng.sample(long, 3)) if i % 20 == 19 else next(short) for i in range(n)]
    return out, n - n_long


def _worker(kind: str, model: str, n: int) -> dict:
    data, n_short = texts(n)
    short = [t for t in data if len(t) <= 240]
    one = short[0]
    if kind == "pipeline":
        import torch
        from transformers import pipeline

        clf = pipeline("text-classification", model=model, dtype=torch.float32)
        score = lambda batch: clf(batch, batch_size=32, truncation=True)  # noqa: E731
    else:
        clf = _load(model, kind)
        score = lambda batch: clf.predict(batch, batch_size=32)  # noqa: E731
    score(short[:64])  # warm up
    started = time.perf_counter()
    score(short)
    short_rate = len(short) / (time.perf_counter() - started)
    started = time.perf_counter()
    score(data)
    all_rate = len(data) / (time.perf_counter() - started)
    latencies = []
    for _ in range(200):
        t = time.perf_counter()
        score([one])
        latencies.append((time.perf_counter() - t) * 1000)
    return {"backend": kind, "short_posts": len(short), "short_posts_per_s": round(short_rate, 1),
            "all_texts": len(data), "all_texts_per_s": round(all_rate, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)), 1),
            "p95_ms": round(float(np.percentile(latencies, 95)), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "torch_loaded": "torch" in sys.modules, "post_chars": len(one)}


INT8_ALONE = "onnx-int8-alone"


def _load(model: str, kind: str):
    from overclaim import Classifier

    if kind == INT8_ALONE:
        return Classifier.load(model, backend="onnx", int8_recheck=0)
    return Classifier.load(model, backend=kind)


def accuracy_change(model: str) -> dict:
    from sklearn.metrics import f1_score

    from overclaim.corpus import load_corpus
    from overclaim.evaluate import functional_pass_rates, load_functional_suite

    test = [r for r in load_corpus() if r["split"] == "test"]
    cases = load_functional_suite()
    out = {}
    for kind in ("torch", "onnx", INT8_ALONE, "onnx-fp32"):
        clf = _load(model, kind)
        cut = clf.calibration.resolve("balanced")
        scores = clf.predict_proba([r["text"] for r in test])
        out[kind] = {"f1": float(f1_score([r["flag"] for r in test], scores >= cut)),
                     "functional": {k: v["pass_rate"] for k, v in functional_pass_rates(
                         cases, clf.predict_proba([c["text"] for c in cases]), cut).items()}}
    result = {"f1_torch": round(out["torch"]["f1"], 4)}
    for kind, label in (("onnx", "onnx_int8"), (INT8_ALONE, "onnx_int8_alone"), ("onnx-fp32", "onnx_fp32")):
        diffs = {t: out[kind]["functional"][t] - out["torch"]["functional"][t] for t in out["torch"]["functional"]}
        result[label] = {
            "f1": round(out[kind]["f1"], 4),
            "f1_change_points": round(100 * (out[kind]["f1"] - out["torch"]["f1"]), 2),
            "largest_functional_change_points": round(100 * max(map(abs, diffs.values())), 2),
            "functional_changes": {t: round(100 * d, 2) for t, d in diffs.items() if d}}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from overclaim.predict import default_model_path

    model = args.model or str(default_model_path())
    if args.worker:
        print(json.dumps(_worker(args.worker, model, args.n)))
        return
    if not (Path(model) / "onnx" / "model.int8.onnx").exists():
        subprocess.run([sys.executable, "-m", "overclaim", "export", model], check=True)
    rows = []
    for kind in ("pipeline", "torch", "onnx-fp32", INT8_ALONE, "onnx"):
        done = subprocess.run([sys.executable, __file__, "--worker", kind, "--model", model, "--n", str(args.n)],
                              capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["short_posts_per_s"]
    print("\n| backend | short posts/s | x pipeline | all texts/s | p50 ms | p95 ms | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['backend']} | {r['short_posts_per_s']} | {r['short_posts_per_s'] / base:.2f} | "
              f"{r['all_texts_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['peak_rss_mb']} |")
    print("\nONNX vs torch, balanced threshold:", json.dumps(accuracy_change(model), indent=1))


if __name__ == "__main__":
    main()
