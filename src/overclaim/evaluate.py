"""Metrics (scikit-learn), bootstrap intervals, behavioural-suite pass rates and sentence hit rates."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, brier_score_loss, f1_score,
                             precision_score, recall_score, roc_auc_score)

from .sentences import claim_spans, overlaps_any

FUNCTIONAL_SUITE = Path(__file__).resolve().parents[2] / "data" / "functional" / "suite.jsonl"
# Held-out probes in the suite's format, written apart from corpus and suite (data/probes/README.md).
STANCE_PROBES = Path(__file__).resolve().parents[2] / "data" / "probes" / "stance.jsonl"


def binary_metrics(labels, scores, threshold: float | None = 0.5, scores_are_margins: bool = False) -> dict:
    """Flag-class and macro metrics at a threshold; ranking and calibration metrics need no threshold."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=np.float64)
    out: dict[str, float] = {"n": int(len(y)), "positives": int(y.sum())}
    if len(set(y.tolist())) == 2:
        out["auroc"] = float(roc_auc_score(y, s))
        out["auprc"] = float(average_precision_score(y, s))
    if not scores_are_margins:
        out["brier"] = float(brier_score_loss(y, np.clip(s, 0, 1)))
        out["ece"] = expected_calibration_error(y, s)
    if threshold is not None:
        pred = (s >= threshold).astype(int)
        out.update(
            threshold=float(threshold),
            accuracy=float(accuracy_score(y, pred)),
            precision=float(precision_score(y, pred, zero_division=0)),
            recall=float(recall_score(y, pred, zero_division=0)),
            f1=float(f1_score(y, pred, zero_division=0)),
            macro_f1=float(f1_score(y, pred, average="macro", zero_division=0)),
            weighted_f1=float(f1_score(y, pred, average="weighted", zero_division=0)),
        )
    return out


def metrics_at_presets(labels, probabilities, calibration) -> dict:
    """Threshold-free metrics, and ``binary_metrics`` at each of a calibration's preset thresholds."""
    result = {"threshold_free": binary_metrics(labels, probabilities, threshold=None)}
    for name, point in calibration.thresholds.items():
        result[name] = binary_metrics(labels, probabilities, threshold=point.threshold)
    return result


def expected_calibration_error(labels, probabilities, bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width probability bins, weighted by bin size."""
    y = np.asarray(labels, dtype=float)
    p = np.clip(np.asarray(probabilities, dtype=float), 0, 1)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / max(1, len(y)))


def bootstrap_ci(labels, scores, metric: Callable, n: int = 1000, seed: int = 0, alpha: float = 0.05):
    """Percentile bootstrap interval of ``metric(labels, scores)``; resamples that lose a class are skipped."""
    y = np.asarray(labels)
    s = np.asarray(scores)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) < 2:
            continue
        values.append(metric(y[idx], s[idx]))
    if not values:
        return float("nan"), float("nan")
    return float(np.quantile(values, alpha / 2)), float(np.quantile(values, 1 - alpha / 2))


def load_functional_suite(path: str | Path = FUNCTIONAL_SUITE) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def functional_pass_rates(cases: Sequence[dict], scores: Sequence[float], threshold: float) -> dict[str, dict]:
    """Per test: cases, passes and pass rate, where a case passes when the flag matches its expectation."""
    table: dict[str, dict] = defaultdict(lambda: {"cases": 0, "passed": 0})
    for case, score in zip(cases, scores):
        row = table[case["test"]]
        row["cases"] += 1
        row["expected_flag"] = case["expected_flag"]
        row["passed"] += int((score >= threshold) == bool(case["expected_flag"]))
    for row in table.values():
        row["pass_rate"] = row["passed"] / row["cases"]
    return dict(sorted(table.items()))


def accuracy_by_group(groups: Sequence[str], labels, scores, threshold: float) -> dict[str, dict]:
    table: dict[str, dict] = defaultdict(lambda: {"n": 0, "correct": 0})
    for group, label, score in zip(groups, labels, scores):
        table[group]["n"] += 1
        table[group]["correct"] += int((score >= threshold) == bool(label))
    for row in table.values():
        row["accuracy"] = row["correct"] / row["n"]
    return dict(sorted(table.items()))


def sentence_hit_rate(records: Sequence[dict], predictions) -> dict:
    """How often the top-scored sentence of a flagged multi-sentence item is one of its claim sentences.

    A predicted sentence counts as a hit when its span overlaps the span of an annotated claim sentence.
    """
    hits = total = 0
    for record, prediction in zip(records, predictions):
        claims = record.get("claim_sentences") or []
        if record.get("flag") != 1 or not claims or len(prediction.sentences) < 2:
            continue
        top = max(prediction.sentences, key=lambda s: s.score)
        total += 1
        hits += int(overlaps_any(top.start, top.end, claim_spans(record["text"], claims)))
    return {"items": total, "hits": hits, "hit_rate": hits / total if total else float("nan")}
