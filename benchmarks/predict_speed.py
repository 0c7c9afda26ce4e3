"""Load the shipped model and score 1,000 posts of about 180 characters, with sentence scores.

Prints load time, posts per second and the peak resident memory of this process.
Usage: python benchmarks/predict_speed.py [--model PATH] [--backend torch|onnx] [--n 1000]
"""
from __future__ import annotations

import argparse
import itertools
import json
import platform
import resource
import time

import torch

from overclaim import Classifier
from overclaim.corpus import load_corpus


def posts(n: int) -> list[str]:
    """Corpus texts of 120-240 characters (mean near 180), repeated in order to reach ``n``."""
    chosen = [r["text"] for r in load_corpus() if 120 <= len(r["text"]) <= 240]
    return list(itertools.islice(itertools.cycle(chosen), n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    texts = posts(args.n)
    started = time.perf_counter()
    clf = Classifier.load(args.model, backend=args.backend)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    predictions = clf.predict(texts, batch_size=args.batch_size)
    elapsed = time.perf_counter() - started
    sentences = sum(len(p.sentences) for p in predictions)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "model": clf.name, "backend": type(clf.backend).__name__, "posts": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1), "sentences_scored": sentences,
        "load_seconds": round(loaded, 2), "score_seconds": round(elapsed, 2),
        "posts_per_second": round(len(texts) / elapsed, 1), "peak_rss_mb": round(peak_mb, 1),
        "torch_threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
