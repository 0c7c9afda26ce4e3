"""Scoring files of posts as a stream: every input row comes out once, with its id."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from .data import Row, RowError, iter_rows

CHUNK = 256


@dataclass
class BatchReport:
    scored: int = 0
    flagged: int = 0
    errors: int = 0


def count_lines(path: str | Path) -> int:
    with open(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


def _chunks(rows: Iterator[Row | RowError], size: int):
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_file(classifier, path: str | Path, out: IO[str], *, text_column: str = "text",
               id_column: str | None = "id", threshold=None, errors: IO[str] | None = None,
               progress: bool = True, keep_fields: bool = True, batch_size: int = 32) -> BatchReport:
    """Score a CSV/JSONL/Parquet file into JSONL. Bad rows are written with an ``error`` field (and to
    ``errors`` when given) and the rest are still scored."""
    from tqdm.auto import tqdm

    report = BatchReport()
    total = count_lines(path) if Path(path).suffix.lower() in (".csv", ".tsv", ".jsonl") else None
    bar = tqdm(total=total, unit="row", desc=f"scoring {Path(path).name}", disable=not progress,
               file=sys.stderr)
    for chunk in _chunks(iter_rows(path, text_column, id_column), CHUNK):
        good = [r for r in chunk if isinstance(r, Row)]
        predictions = iter(classifier.predict([r.text for r in good], threshold=threshold,
                                              batch_size=batch_size)) if good else iter(())
        for row in chunk:
            if isinstance(row, RowError):
                record = {"id": str(row.line), "line": row.line, "error": row.message}
                report.errors += 1
                if errors is not None:
                    errors.write(json.dumps({"file": str(path), "line": row.line, "error": row.message}) + "\n")
            else:
                prediction = next(predictions)
                record = {"id": row.id, "line": row.line}
                if keep_fields:
                    record["input"] = row.fields
                record.update(prediction.to_dict())
                report.scored += 1
                report.flagged += int(prediction.flagged)
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        bar.update(len(chunk))
        bar.set_postfix(flagged=report.flagged, errors=report.errors)
    bar.close()
    return report
