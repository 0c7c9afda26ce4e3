"""Sentence splitting with character offsets into the original text.

Offsets matter more than linguistic perfection here: a UI highlights ``text[start:end]``, so every span
must point back into the exact string the user gave us.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace, or at a
# line break. Common abbreviations are protected so "Dr. Oz" or "e.g. garlic" stay whole.
_BOUNDARY = re.compile(r"(?<=[.!?…])([\"'”’)\]]*)\s+|\n\s*")
_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "prof", "st", "vs", "etc", "e.g", "i.e", "approx", "fig", "mg", "mcg",
    "u.s", "u.k", "inc", "ltd", "jr", "sr", "dept",
}


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    """Return the spans of the sentences of ``text``, stripped of surrounding whitespace."""
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + len(match.group(1) or "")
        candidate = text[start:end]
        last_word = candidate.rsplit(None, 1)[-1].rstrip(".").lower() if candidate.split() else ""
        if "\n" not in match.group() and last_word in _ABBREVIATIONS:
            continue
        _append(spans, text, start, end)
        start = match.end()
    _append(spans, text, start, len(text))
    return spans


def claim_spans(text: str, claims: list[str] | None) -> list[Span]:
    """Where each annotated claim sentence sits in ``text``; a claim not found verbatim is skipped."""
    found = ((text.find(claim), claim) for claim in claims or [])
    return [Span(at, at + len(claim)) for at, claim in found if at >= 0]


def overlaps_any(start: int, end: int, spans: list[Span]) -> bool:
    return any(start < span.end and span.start < end for span in spans)


def _append(spans: list[Span], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    spans.append(Span(start + lead, start + lead + len(stripped)))
