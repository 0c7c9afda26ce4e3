"""The one sentence-window scoring path shared by every backend.

A document is scored whole: its sentences are packed into windows that fit the model's maximum length,
each window is scored, the document takes its highest window score and each sentence keeps its own score
for highlighting. A model with the in-pass sentence head (``sentence_head``) scores a window's sentences in
the same forward pass as the window, in context; any other model scores each sentence as its own input. All
inputs of a batch of documents are scored together, sorted by token length so padding stays small.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from .sentence_head import span_weight_matrix, token_ranges
from .sentences import Span, split_sentences


class Backend(Protocol):
    """Anything that turns tokenised inputs into a logit margin (positive minus negative class).

    A backend whose ``sentence_head`` is true also has ``span_margins(encoded, span_weights)``, returning
    the input margins and a margin per weighted token span."""

    def margins(self, encoded: dict) -> np.ndarray: ...


@dataclass
class DocumentPlan:
    sentences: list[Span]
    windows: list[Span]
    # Where each sentence's score comes from: (input index, span index within that input), the span index
    # -1 when the input is the sentence itself.
    sentence_inputs: list[tuple[int, int]]
    window_inputs: list[int]


@dataclass
class ScoringInputs:
    plans: list[DocumentPlan]
    texts: list[str]  # unique model inputs
    spans: list[list[tuple[int, int]]] = field(default_factory=list)  # per input: sentence character spans


@dataclass
class ScoredDocument:
    margin: float
    sentences: list[tuple[Span, float]]


def plan_documents(texts: Sequence[str], tokenizer, max_length: int,
                   sentences_in_pass: bool = False) -> ScoringInputs:
    """Split documents into sentence spans and model-sized windows, and list the unique inputs to score.

    With ``sentences_in_pass`` the inputs are the windows alone, each carrying its sentences' spans;
    otherwise every sentence is an input too."""
    budget = max_length - 2  # room for [CLS] and [SEP]
    result = ScoringInputs([], [], [])
    index: dict[tuple, int] = {}

    def add(piece: str, spans: tuple = ()) -> int:
        key = (piece, spans)
        if key not in index:
            index[key] = len(result.texts)
            result.texts.append(piece)
            result.spans.append(list(spans))
        return index[key]

    all_spans = [split_sentences(text) for text in texts]
    flat = [text[s.start:s.end] for text, spans in zip(texts, all_spans) for s in spans]
    lengths = iter(_token_lengths(tokenizer, flat))
    for text, spans in zip(texts, all_spans):
        sized: list[tuple[Span, int]] = []
        for span in spans:
            n = next(lengths)
            if n <= budget:
                sized.append((span, n))
            else:
                sized.extend(_split_long_span(text, span, tokenizer, budget))
        sentences = [s for s, _ in sized]
        windows = _pack_windows(sized, budget)
        if not sentences_in_pass:
            sentence_inputs = [(add(text[s.start:s.end]), -1) for s in sentences]
            window_inputs = [add(text[w.start:w.end]) for w in windows]
        else:
            sentence_inputs, window_inputs = [], []
            at = 0  # windows cover consecutive runs of the sentences, in order
            for w in windows:
                first = at
                while at < len(sentences) and sentences[at].end <= w.end:
                    at += 1
                inside = sentences[first:at]
                if len(inside) == 1 and inside[0] == w:
                    # A window that is one sentence: that sentence's score is the window's.
                    window_inputs.append(add(text[w.start:w.end]))
                    sentence_inputs.append((window_inputs[-1], -1))
                    continue
                rel = tuple((s.start - w.start, s.end - w.start) for s in inside)
                window_inputs.append(add(text[w.start:w.end], rel))
                sentence_inputs.extend((window_inputs[-1], j) for j in range(len(inside)))
        result.plans.append(DocumentPlan(sentences, windows, sentence_inputs, window_inputs))
    return result


def score_documents(
    texts: Sequence[str],
    tokenizer,
    backend: Backend,
    max_length: int,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> list[ScoredDocument]:
    """Score documents whole (windows) and per sentence, in one length-sorted pass over all inputs."""
    in_pass = bool(getattr(backend, "sentence_head", False))
    planned = plan_documents(texts, tokenizer, max_length, sentences_in_pass=in_pass)
    margins, span_margins = score_texts(planned.texts, tokenizer, backend, max_length, batch_size, progress,
                                        spans=planned.spans if in_pass else None)

    def sentence_margin(i: int, j: int) -> float:
        if j < 0:
            return float(margins[i])
        value = span_margins[i][j]
        # A sentence cut off by truncation has no tokens in its window; it falls back to the window's score.
        return float(margins[i]) if math.isnan(value) else float(value)

    results = []
    for plan in planned.plans:
        window_margins = [margins[i] for i in plan.window_inputs]
        results.append(ScoredDocument(
            margin=float(max(window_margins)) if window_margins else float("-inf"),
            sentences=[(s, sentence_margin(i, j)) for s, (i, j) in zip(plan.sentences, plan.sentence_inputs)],
        ))
    return results


def score_texts(
    inputs: Sequence[str],
    tokenizer,
    backend: Backend,
    max_length: int,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
    spans: Sequence[Sequence[tuple[int, int]]] | None = None,
) -> tuple[np.ndarray, list[list[float]]]:
    """Logit margins for texts that already fit the model, batched in order of token length.

    Each text is tokenised once; batches hold at most ``batch_size`` texts and ``MAX_BATCH_TOKENS``
    padded tokens, so a batch of long windows stays small in memory while short sentences go in full batches.
    With ``spans`` (character spans per input; needs a backend with a sentence head) each span gets a margin
    too, read from the same forward pass; NaN for a span with no token inside the input.
    """
    margins = np.zeros(len(inputs), dtype=np.float32)
    span_margins: list[list[float]] = [[] for _ in inputs]
    if not len(inputs):
        return margins, span_margins
    with_spans = spans is not None and any(spans)
    encoded = tokenizer(list(inputs), truncation=True, max_length=max_length, return_offsets_mapping=with_spans)
    ids = encoded["input_ids"]
    types = encoded.get("token_type_ids")
    ranges = ([token_ranges(offsets, s) for offsets, s in zip(encoded["offset_mapping"], spans)]
              if with_spans else None)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    order = sorted(range(len(inputs)), key=lambda i: len(ids[i]))
    for chunk in _length_batches(order, [len(x) for x in ids], batch_size):
        width = max(len(ids[i]) for i in chunk)
        feed = {"input_ids": np.full((len(chunk), width), pad, dtype=np.int64),
                "attention_mask": np.zeros((len(chunk), width), dtype=np.int64)}
        if types is not None:
            feed["token_type_ids"] = np.zeros((len(chunk), width), dtype=np.int64)
        for row, i in enumerate(chunk):
            n = len(ids[i])
            feed["input_ids"][row, :n] = ids[i]
            feed["attention_mask"][row, :n] = 1
            if types is not None:
                feed["token_type_ids"][row, :n] = types[i]
        if ranges is not None and any(ranges[i] for i in chunk):
            chunk_ranges = [ranges[i] for i in chunk]
            margins[chunk], per_span = backend.span_margins(feed, span_weight_matrix(chunk_ranges, width))
            for row, i in enumerate(chunk):
                span_margins[i] = [float(per_span[row, j]) if last > first else math.nan
                                   for j, (first, last) in enumerate(chunk_ranges[row])]
        else:
            margins[chunk] = backend.margins(feed)
        if progress:
            progress(len(chunk))
    return margins, span_margins


# Peak memory follows the largest batch's activations: with an int8 session and its fp32 recheck session
# loaded, 4,096 padded tokens peaked at 638 MB RSS in benchmarks/throughput.py and 2,048 at 511 MB, at the
# same speed (short posts fill 32-row batches below 2,048 tokens either way).
MAX_BATCH_TOKENS = 2048
# What one more model call costs, in padded tokens: about 2 ms per ONNX int8 call against ~6,800 padded
# tokens/s on 2 cores (benchmarks/throughput.py). Fewer, fuller batches only pay while they add less padding.
BATCH_OVERHEAD_TOKENS = 16


def _length_batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """Cut length-sorted indices into batches with the least padding plus per-call cost.

    A batch costs rows x its longest length + ``BATCH_OVERHEAD_TOKENS``; batches hold at most ``batch_size``
    rows and ``MAX_BATCH_TOKENS`` padded tokens. Dynamic programming over the sorted order finds the cheapest
    cut: a small request of mixed lengths no longer pads every sentence to its longest window.
    """
    n = len(order)
    sizes = [lengths[i] for i in order]  # ascending, so a batch's last item is its longest
    best = [0.0] + [float("inf")] * n
    start = [0] * (n + 1)
    for end in range(1, n + 1):
        longest = sizes[end - 1]
        rows_cap = min(batch_size, max(1, MAX_BATCH_TOKENS // max(1, longest)))
        for begin in range(max(0, end - rows_cap), end):
            cost = best[begin] + (end - begin) * longest + BATCH_OVERHEAD_TOKENS
            if cost < best[end]:
                best[end], start[end] = cost, begin
    batches: list[list[int]] = []
    end = n
    while end > 0:
        batches.append(order[start[end]:end])
        end = start[end]
    return batches[::-1]


def _token_lengths(tokenizer, pieces: list[str]) -> list[int]:
    if not pieces:
        return []
    # verbose=False: measuring over-long pieces is the point here, so the "longer than maximum" warning is noise.
    encoded = tokenizer(pieces, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    return [len(ids) for ids in encoded]


def _split_long_span(text: str, span: Span, tokenizer, budget: int) -> list[tuple[Span, int]]:
    """Cut a sentence longer than the model's window into token-aligned pieces."""
    piece = text[span.start:span.end]
    offsets = tokenizer(piece, add_special_tokens=False, return_offsets_mapping=True,
                        truncation=False, verbose=False)["offset_mapping"]
    parts = []
    for at in range(0, len(offsets), budget):
        chunk = offsets[at:at + budget]
        parts.append((Span(span.start + chunk[0][0], span.start + chunk[-1][1]), len(chunk)))
    return parts


def _pack_windows(sized: list[tuple[Span, int]], budget: int) -> list[Span]:
    """Greedily pack consecutive sentences into windows of at most ``budget`` tokens.

    Joining spans by their original offsets keeps the text between sentences, so a document that fits
    in one window is scored exactly as written.
    """
    windows: list[Span] = []
    start = end = None
    used = 0
    for span, n in sized:
        # +1 approximates the whitespace/newline token cost between joined sentences.
        if start is not None and used + n + 1 > budget:
            windows.append(Span(start, end))
            start = None
        if start is None:
            start, end, used = span.start, span.end, n
        else:
            end, used = span.end, used + n + 1
    if start is not None:
        windows.append(Span(start, end))
    return windows
