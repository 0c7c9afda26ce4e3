"""Named dataset sources, so a config or command line can say which data it means in one string.

- ``corpus:train|validation|test`` (add ``:random`` for the random split), our corpus
- ``functional``: the behavioural suite, as labelled data
- ``constraint2021:train|validation|test``, ``coaid``, ``coaid:claims``, ``coaid:news`` from ``data_root``
- ``pubhealth:SPLIT`` (hub, needs network), or any CSV/TSV/JSONL/Parquet path
"""
from __future__ import annotations

from pathlib import Path

from .data import LabelledData, load_coaid, load_constraint, load_labelled, load_pubhealth

DEFAULT_DATA_ROOT = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def load_source(spec: str, data_root: str | Path | None = None, text_column: str = "text",
                label_column: str = "label", label_map: dict | None = None) -> LabelledData:
    root = Path(data_root) if data_root else DEFAULT_DATA_ROOT
    name, _, rest = spec.partition(":")
    if name == "corpus":
        from . import corpus

        split, _, variant = rest.partition(":")
        column = "random_split" if variant == "random" else "split"
        if split not in corpus.SPLITS:
            raise ValueError(f"{spec!r}: corpus split must be one of {', '.join(corpus.SPLITS)}")
        data = corpus.as_labelled(corpus.load_corpus(), split, column)
        data.source = spec
        return data
    if name == "functional":
        from .evaluate import load_functional_suite

        cases = load_functional_suite()
        return LabelledData([c["text"] for c in cases], [c["expected_flag"] for c in cases],
                            [c["id"] for c in cases], "functional")
    if name == "constraint2021":
        return load_constraint(root, rest or "test")
    if name == "coaid":
        return load_coaid(root, rest or "all")
    if name == "pubhealth":
        return load_pubhealth(split=rest or "test")
    if not Path(spec).exists():
        raise FileNotFoundError(f"{spec!r} is neither a file nor a known source "
                                "(corpus:SPLIT, functional, constraint2021:SPLIT, coaid, pubhealth:SPLIT)")
    return load_labelled(spec, text_column=text_column, label_column=label_column, label_map=label_map)
