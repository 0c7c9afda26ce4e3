"""``overclaim benchmark``: classifiers x datasets, with honest metrics and a record of what ran.

A cell is (classifier, training set, test set). Trainable classifiers are trained once per training set
(thresholds chosen on that source's validation split), pretrained ones are only scored. Each finished
cell is saved on its own, so a re-run skips it unless ``force`` is set.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import subprocess
import sys
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .data import LabelledData
from .sources import load_source

SCHEMA_VERSION = 1
VALIDATION_OF = {"corpus:train": "corpus:validation", "corpus:train:random": "corpus:validation:random",
                 "constraint2021:train": "constraint2021:validation"}
PRESETS = ("high_precision", "balanced", "high_recall")


@dataclass
class ClassifierSpec:
    """``kind``: model (folder or hub id in ``ref``; empty = shipped), tfidf_lr, keyword, finetune
    (our training pipeline; ``options`` are TrainingConfig fields) or callable (``ref`` = module:function)."""
    name: str
    kind: str
    ref: str | None = None
    options: dict = field(default_factory=dict)

    @property
    def trainable(self) -> bool:
        return self.kind in ("tfidf_lr", "keyword", "finetune")


@dataclass
class BenchmarkConfig:
    run: str = "default"
    output_dir: str = "results"
    data_root: str | None = None
    classifiers: list[ClassifierSpec] = field(default_factory=lambda: [
        ClassifierSpec("overclaim-minilm", "model"),
        ClassifierSpec("tfidf-lr", "tfidf_lr"),
        ClassifierSpec("keyword", "keyword"),
    ])
    train_sets: list[str] = field(default_factory=lambda: ["corpus:train", "constraint2021:train"])
    test_sets: list[str] = field(default_factory=lambda: ["corpus:test", "functional", "constraint2021:test",
                                                          "coaid"])
    bootstrap: int = 1000
    seed: int = 0
    force: bool = False

    @classmethod
    def from_file(cls, path: str | Path) -> "BenchmarkConfig":
        values = tomllib.loads(Path(path).read_text())
        classifiers = [ClassifierSpec(**c) for c in values.pop("classifiers", [])]
        config = cls(**values)
        if classifiers:
            config.classifiers = classifiers
        return config


class Scorer:
    """Uniform interface over every classifier kind: ``scores(texts) -> np.ndarray``, thresholds, size."""

    def __init__(self, scores: Callable, thresholds: dict[str, float], size_bytes: int | None, detail: str,
                 train_seconds: float | None = None):
        self.scores = scores
        self.thresholds = thresholds
        self.size_bytes = size_bytes
        self.detail = detail
        self.train_seconds = train_seconds


def run_benchmark(config: BenchmarkConfig, argv: list[str] | None = None, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    out = Path(config.output_dir) / config.run
    cells_dir = out / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    datasets: dict[str, LabelledData | Exception] = {}

    def dataset(spec: str):
        if spec not in datasets:
            try:
                datasets[spec] = load_source(spec, config.data_root)
            except Exception as exc:  # recorded per cell; other cells go on
                datasets[spec] = exc
        return datasets[spec]

    plan = []
    for spec in config.classifiers:
        for train_set in (config.train_sets if spec.trainable else [None]):
            for test_set in config.test_sets:
                plan.append((spec, train_set, test_set))
    cells = []
    bar = tqdm(plan, desc="benchmark", unit="cell", disable=not progress, file=sys.stderr)
    scorers: dict[tuple, Scorer | Exception] = {}
    # Hashing a model folder reads its weights: once per classifier, not once per cell.
    model_prints = {spec.name: _model_fingerprint(spec) for spec in config.classifiers}
    for spec, train_set, test_set in bar:
        key = _cell_key(spec, train_set, test_set, model_prints[spec.name],
                        [_data_fingerprint(dataset(name)) for name in (train_set, test_set) if name])
        bar.set_description(f"{spec.name} | {train_set or 'pretrained'} -> {test_set}")
        path = cells_dir / f"{key}.json"
        if path.exists() and not config.force:
            cells.append(json.loads(path.read_text()))
            continue
        cell = {"classifier": spec.name, "kind": spec.kind, "train_set": train_set, "test_set": test_set}
        started = time.time()
        try:
            if (spec.name, train_set) not in scorers:
                try:
                    scorers[(spec.name, train_set)] = _build_scorer(spec, train_set, dataset, out, config)
                except Exception as exc:
                    scorers[(spec.name, train_set)] = exc
            scorer = scorers[(spec.name, train_set)]
            if isinstance(scorer, Exception):
                raise scorer
            test = dataset(test_set)
            if isinstance(test, Exception):
                raise test
            cell.update(_evaluate_cell(scorer, test, train_set and dataset(train_set), config))
        except Exception as exc:
            cell["error"] = f"{type(exc).__name__}: {exc}"
            cell["traceback"] = traceback.format_exc(limit=3)
        cell["seconds"] = round(time.time() - started, 2)
        if "error" not in cell:
            path.write_text(json.dumps(cell, indent=2) + "\n")
        cells.append(cell)
    result = {
        "schema_version": SCHEMA_VERSION,
        "run": config.run,
        "command": argv if argv is not None else sys.argv,
        "git_commit": _git_commit(),
        "packages": _versions(),
        "config": _jsonable(dataclasses.asdict(config)),
        "seeds": {"bootstrap": config.seed},
        "cells": cells,
    }
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    from .benchmark_report import write_plots, write_summary

    write_summary(result, out / "summary.md")
    write_plots(result, out)
    return result


def _build_scorer(spec: ClassifierSpec, train_set, dataset, out: Path, config: BenchmarkConfig) -> Scorer:
    if spec.kind == "model":
        from .predict import Classifier

        clf = Classifier.load(spec.ref or None, **spec.options)
        thresholds = {name: clf.calibration.resolve(name) for name in PRESETS}
        return Scorer(clf.predict_proba, thresholds, _folder_size(clf.name), clf.name)
    if spec.kind == "callable":
        module, _, name = (spec.ref or "").partition(":")
        if not module or not name:
            raise ValueError(f"callable entry {spec.name!r} needs ref='module:function', got {spec.ref!r}")
        function = getattr(importlib.import_module(module), name)
        return Scorer(lambda texts: np.asarray(function(list(texts)), dtype=float),
                      {p: 0.5 for p in PRESETS}, None, spec.ref)
    train = dataset(train_set)
    if isinstance(train, Exception):
        raise train
    validation = _validation_for(train_set, dataset)
    if spec.kind == "finetune":
        from .predict import Classifier
        from .train import TrainingConfig, train as finetune

        folder = out / "models" / f"{spec.name}-{_slug(train_set)}"
        options = {"output_dir": str(folder), "train_file": train_set, "data_root": config.data_root,
                   **({"validation_file": VALIDATION_OF[train_set]} if train_set in VALIDATION_OF else {}),
                   **spec.options}
        if train_set.startswith("corpus:"):
            options.pop("train_file")
            options.pop("validation_file", None)
            options["corpus_split"] = "random_split" if train_set.endswith(":random") else "split"
        if not (folder / "model.safetensors").exists() or config.force:
            finetune(TrainingConfig.from_dict(options))
        clf = Classifier.load(folder, backend="torch")
        thresholds = {name: clf.calibration.resolve(name) for name in PRESETS}
        # The training run's own wall clock, also when the model was trained by an earlier run of the matrix.
        trained = json.loads((folder / "metrics.json").read_text()).get("train_seconds")
        return Scorer(clf.predict_proba, thresholds, _folder_size(folder), str(folder), trained)
    from .baselines import KeywordBaseline, tfidf_logistic_regression
    from .calibrate import choose_thresholds

    estimator = tfidf_logistic_regression(**spec.options) if spec.kind == "tfidf_lr" else KeywordBaseline()
    started = time.perf_counter()
    estimator.fit(train.texts, train.labels)
    fit_seconds = time.perf_counter() - started

    def scores(texts):
        return estimator.predict_proba(list(texts))[:, 1]

    points = choose_thresholds(scores(validation.texts), validation.labels)
    size = sum(getattr(step, "coef_", np.zeros(0)).nbytes for step in _steps(estimator))
    return Scorer(scores, {k: v.threshold for k, v in points.items()}, size, f"{spec.kind} fit on {train_set}",
                  round(fit_seconds, 2))


def _validation_for(train_set: str, dataset) -> LabelledData:
    spec = VALIDATION_OF.get(train_set)
    if spec:
        data = dataset(spec)
        if isinstance(data, Exception):
            raise data
        return data
    from .data import stratified_split

    return stratified_split(dataset(train_set), 0.15, 0)[1]


def _evaluate_cell(scorer: Scorer, test: LabelledData, train: LabelledData | None, config) -> dict:
    from sklearn.metrics import f1_score, roc_auc_score

    from .evaluate import binary_metrics, bootstrap_ci, functional_pass_rates, load_functional_suite
    from .leakage import overlap

    started = time.perf_counter()
    scores = np.asarray(scorer.scores(test.texts), dtype=float)
    elapsed = time.perf_counter() - started
    if scores.shape != (len(test),):
        raise ValueError(f"classifier returned {scores.shape[0] if scores.ndim else 'no'} scores for "
                         f"{len(test)} texts")
    labels = np.asarray(test.labels)
    cell = {"n": len(test), "positives": int(labels.sum()), "detail": scorer.detail,
            "posts_per_second": round(len(test) / max(elapsed, 1e-9), 1), "model_bytes": scorer.size_bytes,
            "train_seconds": scorer.train_seconds,
            "thresholds": scorer.thresholds, "metrics": {}, "scores": scores.round(5).tolist(),
            "labels": labels.tolist()}
    for name, cut in scorer.thresholds.items():
        m = binary_metrics(labels, scores, threshold=cut)
        if len(set(labels.tolist())) == 2:
            m["f1_ci95"] = bootstrap_ci(labels, scores, lambda y, s: f1_score(y, s >= cut), config.bootstrap,
                                        config.seed)
        cell["metrics"][name] = m
    if len(set(labels.tolist())) == 2:
        cell["auroc_ci95"] = bootstrap_ci(labels, scores, roc_auc_score, config.bootstrap, config.seed)
    if test.source == "functional":
        cases = load_functional_suite()
        cell["functional"] = functional_pass_rates(cases, scores, scorer.thresholds["balanced"])
    if train is not None and not isinstance(train, Exception):
        leak = overlap(train.texts, test.texts)
        keep = np.setdiff1d(np.arange(len(test)), leak["overlapping_indices"])
        cell["leakage"] = {k: v for k, v in leak.items() if k != "overlapping_indices"}
        if len(keep) and len(keep) < len(test):
            cell["leakage"]["balanced_without_overlap"] = binary_metrics(
                labels[keep], scores[keep], threshold=scorer.thresholds["balanced"])
    return cell


def _steps(estimator):
    return [s for _, s in getattr(estimator, "steps", [])] or [getattr(estimator, "model_", estimator)]


def _folder_size(path) -> int | None:
    folder = Path(path)
    if not folder.is_dir():
        return None
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and "onnx" not in p.parts)


def _cell_key(spec: ClassifierSpec, train_set, test_set, model_print: str = "", data_prints=()) -> str:
    # Content, not only names, goes into the key: a re-trained model folder or an edited data file under
    # the same name must not be answered from a stale cell.
    ident = json.dumps([dataclasses.asdict(spec), train_set, test_set, model_print, list(data_prints)],
                       sort_keys=True)
    return f"{_slug(spec.name)}__{_slug(train_set or 'pretrained')}__{_slug(test_set)}__" + \
        hashlib.sha1(ident.encode()).hexdigest()[:8]


def _model_fingerprint(spec: ClassifierSpec) -> str:
    """Digest of a local model folder's weights, config, calibration and ONNX exports ("" for hub ids)."""
    if spec.kind != "model":
        return ""
    from .predict import default_model_path

    folder = Path(spec.ref) if spec.ref else Path(default_model_path())
    if not folder.is_dir():
        return ""
    digest = hashlib.sha1()
    for name in ("config.json", "thresholds.json", "model.safetensors"):
        if (folder / name).exists():
            digest.update(name.encode() + (folder / name).read_bytes())
    # Which backend "auto" picks depends on the exports present; sizes tell the exports apart cheaply.
    for onnx_file in sorted((folder / "onnx").glob("*.onnx")) if (folder / "onnx").is_dir() else []:
        digest.update(f"{onnx_file.name}:{onnx_file.stat().st_size}".encode())
    return digest.hexdigest()


def _data_fingerprint(data) -> str:
    if isinstance(data, Exception):
        return ""
    digest = hashlib.sha1()
    for text, label in zip(data.texts, data.labels):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "-" for c in text)


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _versions() -> dict:
    from .model_card import package_versions

    return package_versions()


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))
