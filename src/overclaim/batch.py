"""Scoring files of posts as a stream: every input row comes out once, with its id and line.

``screen`` is resumable: killed at any point and started again, it skips the rows already written
(to the output or the errors file) and appends the rest, so each input row ends up written exactly once.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from .data import Row, RowError, detect_format, iter_rows

CHUNK = 256


@dataclass
class BatchReport:
    scored: int = 0
    flagged: int = 0
    errors: int = 0
    skipped: int = 0  # already done by an earlier, interrupted run


def count_lines(path: str | Path) -> int | None:
    if detect_format(Path(path)) == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with open(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


def scored_record(row: Row, prediction: dict, keep_fields: bool = True) -> str:
    """One output line for a scored row: its id, line, (input fields) and the prediction."""
    record = {"id": row.id, "line": row.line, **({"input": row.fields} if keep_fields else {}), **prediction}
    return json.dumps(record, ensure_ascii=False, default=str)


def score_stream(classifier, path: str | Path, out: IO[str], errors: IO[str] | None = None, *,
                 text_column: str = "text", id_column: str | None = "id", threshold=None,
                 done: set[int] = frozenset(), progress: bool = True, keep_fields: bool = True,
                 batch_size: int = 32, errors_inline: bool = False) -> BatchReport:
    """Score every row of ``path`` not in ``done`` (line numbers) and write JSONL records to ``out``.

    Malformed rows go to ``errors`` (and, with ``errors_inline``, to ``out`` with an ``error`` field);
    the rest are still scored. Output is flushed chunk by chunk so an interruption loses little.
    """
    from tqdm.auto import tqdm

    report = BatchReport()
    bar = tqdm(total=count_lines(path), unit="row", desc=f"scoring {Path(path).name}", disable=not progress,
               file=sys.stderr, smoothing=0.1)
    for chunk in _chunks(iter_rows(path, text_column, id_column), CHUNK):
        todo = [r for r in chunk if r.line not in done]
        report.skipped += len(chunk) - len(todo)
        good = [r for r in todo if isinstance(r, Row)]
        predictions = iter(classifier.predict([r.text for r in good], threshold=threshold,
                                              batch_size=batch_size)) if good else iter(())
        lines_out, lines_err = [], []
        for row in todo:
            if isinstance(row, RowError):
                report.errors += 1
                problem = {"file": str(path), "line": row.line, "error": row.message}
                lines_err.append(json.dumps(problem))
                if errors_inline:
                    lines_out.append(json.dumps({"id": str(row.line), "line": row.line, "error": row.message}))
                continue
            prediction = next(predictions)
            lines_out.append(scored_record(row, prediction.to_dict(), keep_fields))
            report.scored += 1
            report.flagged += int(prediction.flagged)
        # Errors first: a row is "done" once it is in either file, and a crash between the two writes must
        # not lose a malformed row.
        if errors is not None and lines_err:
            errors.write("".join(line + "\n" for line in lines_err))
            errors.flush()
        if lines_out:
            out.write("".join(line + "\n" for line in lines_out))
            out.flush()
        bar.update(len(chunk))
        bar.set_postfix(flagged=report.flagged, errors=report.errors)
    bar.close()
    return report


def screen(classifier, input_path: str | Path, output_path: str | Path, errors_path: str | Path | None = None,
           *, resume: bool = True, **options) -> BatchReport:
    """Score a file into ``output_path`` (JSONL), malformed rows into ``errors_path``; resumable."""
    output_path = Path(output_path)
    errors_path = Path(errors_path) if errors_path else output_path.with_suffix(".errors.jsonl")
    done: set[int] = set()
    if resume:
        for path in (output_path, errors_path):
            done |= _completed_lines(path)
    mode = "a" if resume else "w"
    with open(output_path, mode, encoding="utf-8") as out, open(errors_path, mode, encoding="utf-8") as err:
        report = score_stream(classifier, input_path, out, err, done=done, **options)
        out.flush()
        os.fsync(out.fileno())
    return report


def _completed_lines(path: Path) -> set[int]:
    """Line numbers already written to a JSONL file; a torn last line (from a kill) is cut off first."""
    if not path.exists():
        return set()
    with open(path, "rb+") as fh:
        data = fh.read()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            fh.truncate(keep)
    done = set()
    for raw in data[:keep].splitlines():
        try:
            done.add(int(json.loads(raw)["line"]))
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{path}: not an overclaim output file (a line without 'line'); "
                             "choose another --output or delete it") from None
    return done


def _chunks(rows: Iterator[Row | RowError], size: int):
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
