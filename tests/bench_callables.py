"""Callables for the benchmark tests (referenced as ``bench_callables:NAME``)."""


def length_score(texts):
    return [min(1.0, len(t) / 100) for t in texts]


def wrong_count(texts):
    return [0.5] * (len(texts) - 1)
