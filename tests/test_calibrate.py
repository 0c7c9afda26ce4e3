import numpy as np
import pytest

from overclaim.calibrate import Calibration, choose_thresholds, fit_temperature


def test_temperature_recovers_a_known_scale():
    rng = np.random.default_rng(0)
    true_logit = rng.normal(0, 2, 20000)
    labels = rng.random(20000) < 1 / (1 + np.exp(-true_logit))
    assert fit_temperature(true_logit * 3.0, labels) == pytest.approx(3.0, rel=0.1)


def test_thresholds_meet_their_targets_on_the_fitting_data():
    rng = np.random.default_rng(1)
    labels = rng.random(4000) < 0.4
    scores = np.clip(labels * 0.35 + rng.random(4000) * 0.65, 0, 1)
    points = choose_thresholds(scores, labels)
    assert points["high_precision"].precision >= 0.95
    assert points["high_recall"].recall >= 0.95
    assert points["high_precision"].threshold >= points["high_recall"].threshold


def test_balanced_is_half_the_best_f1_and_near_the_best():
    rng = np.random.default_rng(2)
    logit = rng.normal(-0.5, 2.5, 20000)
    labels = rng.random(20000) < 1 / (1 + np.exp(-logit))
    scores = 1 / (1 + np.exp(-logit))  # calibrated by construction
    balanced = choose_thresholds(scores, labels)["balanced"]
    grid = np.linspace(0.01, 0.99, 99)
    f1 = [2 * (labels & (scores >= t)).sum() / (labels.sum() + (scores >= t).sum()) for t in grid]
    assert balanced.threshold == pytest.approx(max(f1) / 2, abs=0.01)
    achieved = 2 * balanced.precision * balanced.recall / (balanced.precision + balanced.recall)
    assert achieved >= max(f1) - 0.01


def test_save_load_and_resolve(tmp_path):
    cal = Calibration(temperature=2.0)
    cal.save(tmp_path)
    loaded = Calibration.load(tmp_path)
    assert loaded.temperature == 2.0
    assert loaded.resolve("high_recall") == 0.5
    assert loaded.resolve(0.7) == 0.7
    with pytest.raises(ValueError, match="unknown threshold 'strict'"):
        loaded.resolve("strict")
    with pytest.raises(ValueError, match="between 0 and 1"):
        loaded.resolve(1.5)


def test_recalibrate_refits_a_saved_model_on_a_labelled_source(trained_tiny, tmp_path):
    import json
    import shutil

    from conftest import CLAIMS, SAFE, write_jsonl
    from overclaim.calibrate import recalibrate

    folder = tmp_path / "model"
    shutil.copytree(trained_tiny, folder)
    (folder / "thresholds.json").unlink()
    rows = [{"text": t, "label": 1} for t in CLAIMS] + [{"text": t, "label": 0} for t in SAFE]
    source = str(write_jsonl(tmp_path / "validation.jsonl", rows))
    cal = recalibrate(folder, source)
    saved = json.loads((folder / "thresholds.json").read_text())
    assert saved["fitted_on"] == f"{len(rows)} validation texts from {source}" == cal.fitted_on
    assert saved["temperature"] == pytest.approx(cal.temperature)
