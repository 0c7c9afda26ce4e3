"""Scale-out screening on Ray: the same scoring, run by Ray Data over a pool of actors, one model each.

The driver reads the input as a stream (so malformed rows are found and reported as in local screening)
and skips rows already done; each block of rows goes through ``map_batches`` on the actor pool and its
results are appended to the output before the next block starts, so a killed run resumes.

To use a cluster, start Ray there (``ray start --head`` and ``ray start --address=...`` on workers) and set
``RAY_ADDRESS`` (or pass ``address``) before running ``overclaim screen --engine ray``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .batch import BatchReport, _completed_lines, count_lines, scored_record
from .data import Row, RowError, iter_rows

BLOCK_ROWS = 4096
INSTALL_HINT = "scale-out needs Ray Data: pip install 'overclaim[scale]'"


class _ScoringActor:
    """Loads the classifier once per actor; scores one batch of rows at a time."""

    def __init__(self, model, backend, threshold, threads):
        import torch

        from .predict import Classifier

        if threads:
            torch.set_num_threads(threads)
        self.classifier = Classifier.load(model, backend=backend)
        self.threshold = threshold

    def __call__(self, batch: dict) -> dict:
        predictions = self.classifier.predict(list(batch["text"]), threshold=self.threshold)
        return {"line": batch["line"], "result": [json.dumps(p.to_dict()) for p in predictions]}


def screen_ray(model, input_path, output_path, errors_path=None, *, actors: int = 2, backend: str = "auto",
               resume: bool = True, text_column: str = "text", id_column: str | None = "id", threshold=None,
               batch_size: int = 32, address: str | None = None, progress: bool = True,
               threads_per_actor: int | None = 1) -> BatchReport:
    try:
        import ray
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    from tqdm.auto import tqdm

    output_path = Path(output_path)
    errors_path = Path(errors_path) if errors_path else output_path.with_suffix(".errors.jsonl")
    done = (_completed_lines(output_path) | _completed_lines(errors_path)) if resume else set()
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    ray.data.DataContext.get_current().enable_progress_bars = False
    model = str(model) if model else None
    report = BatchReport()
    bar = tqdm(total=count_lines(input_path), unit="row", desc=f"ray: {Path(input_path).name}",
               disable=not progress, file=sys.stderr)
    mode = "a" if resume else "w"
    with open(output_path, mode, encoding="utf-8") as out, open(errors_path, mode, encoding="utf-8") as err:
        block: list[Row] = []

        def flush_block():
            if not block:
                return
            items = [{"line": r.line, "text": r.text} for r in block]
            scored = ray.data.from_items(items).map_batches(
                _ScoringActor, fn_constructor_args=(model, backend, threshold, threads_per_actor),
                batch_size=batch_size, concurrency=actors, batch_format="numpy")
            by_line = {r.line: r for r in block}
            lines = []
            for item in scored.iter_rows():
                row = by_line[int(item["line"])]
                prediction = json.loads(item["result"])
                lines.append(scored_record(row, prediction))
                report.scored += 1
                report.flagged += int(prediction["flagged"])
            out.write("".join(line + "\n" for line in lines))
            out.flush()
            bar.update(len(block))
            block.clear()

        for row in iter_rows(input_path, text_column, id_column):
            if row.line in done:
                report.skipped += 1
                bar.update(1)
                continue
            if isinstance(row, RowError):
                report.errors += 1
                err.write(json.dumps({"file": str(input_path), "line": row.line, "error": row.message}) + "\n")
                err.flush()
                bar.update(1)
                continue
            block.append(row)
            if len(block) >= BLOCK_ROWS:
                flush_block()
        flush_block()
    bar.close()
    return report
