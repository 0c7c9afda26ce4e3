"""Sentence scores from the same forward pass as the document score.

A model trained with ``TrainingConfig.sentence_loss_weight > 0`` learns to score a sentence by its tokens'
mean final hidden state, read in the context of the whole window, through the model's own pooler and
classifier. One pass then gives the document score (the usual [CLS] path, so the folder stays a plain
``BertForSequenceClassification`` that any transformers code loads) and every sentence's score, instead of
one pass for the window plus one per sentence. Models without the marker (any other Hugging Face
classifier) are scored sentence by sentence, as before.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

# Written into config.json; its presence switches scoring to the one-pass path.
CONFIG_KEY = "overclaim_sentence_head"
MEAN_POOL = "mean_pool"
IGNORE = -100


def has_sentence_head(config) -> bool:
    """True for a model folder trained with the in-pass sentence head (a BERT-family encoder)."""
    get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
    return get(CONFIG_KEY) == MEAN_POOL and get("model_type") == "bert"


def supports_sentence_head(model) -> bool:
    """The head reuses BERT's pooler and classifier; other architectures keep sentence-by-sentence scoring."""
    return getattr(model.config, "model_type", None) == "bert" and getattr(model.bert, "pooler", None) is not None


def forward(model, input_ids, attention_mask, token_type_ids=None, span_weights=None):
    """Document logits [batch, labels] and, with ``span_weights`` [batch, spans, tokens], span logits."""
    out = model.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
    doc = model.classifier(model.dropout(out.pooler_output))
    if span_weights is None:
        return doc, None
    pooled = span_weights.to(out.last_hidden_state.dtype) @ out.last_hidden_state
    pooler = model.bert.pooler
    return doc, model.classifier(model.dropout(pooler.activation(pooler.dense(pooled))))


def span_weight_matrix(token_spans: Sequence[Sequence[tuple[int, int]]], width: int) -> np.ndarray:
    """Averaging weights [batch, spans, width]: row j of item i is 1/k over span j's k tokens, else 0."""
    n = max((len(s) for s in token_spans), default=0)
    weights = np.zeros((len(token_spans), max(1, n), width), dtype=np.float32)
    for i, spans in enumerate(token_spans):
        for j, (first, last) in enumerate(spans):
            if last > first:
                weights[i, j, first:last] = 1.0 / (last - first)
    return weights


def token_ranges(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Token index range [first, last) of each character span; (0, 0) when no token falls inside it.

    Special tokens have empty offsets and are never part of a span."""
    ranges = []
    for start, end in spans:
        inside = [t for t, (a, b) in enumerate(offsets) if b > a and a >= start and b <= end]
        ranges.append((inside[0], inside[-1] + 1) if inside else (0, 0))
    return ranges


class SpanCollator:
    """Pads a training batch and adds ``span_weights`` / ``span_labels`` for items that carry sentence targets.

    Items hold ``span_tokens`` (token ranges) and ``span_labels``; items without targets get none, and a
    batch without any gets neither tensor, so the loss falls back to the document term alone."""

    def __init__(self, tokenizer):
        from transformers import DataCollatorWithPadding

        self.pad = DataCollatorWithPadding(tokenizer)

    def __call__(self, items: list[dict]) -> dict:
        import torch

        spans = [item.get("span_tokens") or [] for item in items]
        labels = [item.get("span_labels") or [] for item in items]
        batch = self.pad([{k: v for k, v in item.items() if k not in ("span_tokens", "span_labels")}
                          for item in items])
        if any(spans):
            width = batch["input_ids"].shape[1]
            batch["span_weights"] = torch.from_numpy(span_weight_matrix(spans, width))
            n = batch["span_weights"].shape[1]
            batch["span_labels"] = torch.tensor([row + [IGNORE] * (n - len(row)) for row in labels])
        return batch


def sentence_targets(text: str, flag: int, claim_sentences: Sequence[str] | None) -> list[tuple[int, int, int]]:
    """Character spans of ``text``'s sentences with their sentence label, or [] when unknown.

    A text that is not flagged has no claim sentence; a one-sentence flagged text is its claim; a longer
    flagged text has labels only where its claim sentences are annotated."""
    from .sentences import claim_spans, overlaps_any, split_sentences

    spans = split_sentences(text)
    if not flag:
        return [(s.start, s.end, 0) for s in spans]
    if len(spans) == 1:
        return [(spans[0].start, spans[0].end, 1)]
    claims = claim_spans(text, claim_sentences)
    if not claims:
        return []
    return [(s.start, s.end, int(overlaps_any(s.start, s.end, claims))) for s in spans]
