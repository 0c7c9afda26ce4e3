import numpy as np
import pytest

from overclaim.evaluate import (accuracy_by_group, binary_metrics, bootstrap_ci, expected_calibration_error,
                                functional_pass_rates, sentence_hit_rate)
from overclaim.predict import Prediction, SentenceScore


def test_binary_metrics_match_hand_counts():
    m = binary_metrics([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1], threshold=0.5)
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["accuracy"] == 0.5
    assert m["auroc"] == 0.75


def test_ece_is_zero_for_perfect_calibration_and_large_when_overconfident():
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0
    assert expected_calibration_error([0, 0, 0, 0], [0.95] * 4) == pytest.approx(0.95)


def test_bootstrap_interval_contains_the_point_estimate():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    lo, hi = bootstrap_ci(y, s, lambda a, b: float(((b >= 0.5) == a).mean()), n=200)
    point = float(((s >= 0.5) == y).mean())
    assert lo <= point <= hi and hi - lo < 0.2


def test_functional_pass_rates_and_groups():
    cases = [{"test": "negation", "expected_flag": 0}, {"test": "negation", "expected_flag": 0},
             {"test": "cure", "expected_flag": 1}]
    rates = functional_pass_rates(cases, [0.1, 0.8, 0.9], threshold=0.5)
    assert rates["negation"]["pass_rate"] == 0.5 and rates["cure"]["pass_rate"] == 1.0
    groups = accuracy_by_group(["a", "a", "b"], [1, 0, 1], [0.9, 0.9, 0.2], 0.5)
    assert groups["a"]["accuracy"] == 0.5 and groups["b"]["accuracy"] == 0.0


def test_sentence_hit_rate_uses_spans():
    text = "My knees hurt for years. Turmeric cured them completely."
    record = {"flag": 1, "text": text, "claim_sentences": ["Turmeric cured them completely."]}
    good = Prediction(text, 0.9, True, 0.5, [SentenceScore("", 0, 24, 0.2), SentenceScore("", 25, 56, 0.9)])
    bad = Prediction(text, 0.9, True, 0.5, [SentenceScore("", 0, 24, 0.9), SentenceScore("", 25, 56, 0.2)])
    assert sentence_hit_rate([record, record], [good, bad]) == {"items": 2, "hits": 1, "hit_rate": 0.5}
