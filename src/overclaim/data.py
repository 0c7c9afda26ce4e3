"""Reading labelled and unlabelled text from CSV, JSONL, Parquet or the Hugging Face hub.

Every error names the file, the line (or row) and the field, so a user can fix the input.
"""
from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

DEFAULT_LABEL_NAMES = {
    "0": 0, "1": 1, "false": 0, "true": 1, "no": 0, "yes": 1,
    "real": 0, "fake": 1, "no_claim": 0, "unsupported_claim": 1, "negative": 0, "positive": 1,
}


class DataError(ValueError):
    """Bad input data; the message names the file, line and field."""


@dataclass
class Row:
    """One input record: its 1-based line (JSONL/CSV) or row number, id, text and any other fields."""
    line: int
    id: str
    text: str
    fields: dict = field(default_factory=dict)


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class LabelledData:
    texts: list[str]
    labels: list[int]
    ids: list[str]
    source: str
    # Per text, the sentences that carry its claim (the corpus annotates them); None where not known.
    claim_sentences: list[list[str] | None] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int]) -> "LabelledData":
        claims = [self.claim_sentences[i] for i in indices] if self.claim_sentences is not None else None
        return LabelledData([self.texts[i] for i in indices], [self.labels[i] for i in indices],
                            [self.ids[i] for i in indices], self.source, claims)

    def claims_of(self, i: int) -> list[str] | None:
        return self.claim_sentences[i] if self.claim_sentences is not None else None


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise DataError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv, .jsonl or .parquet")


def iter_records(path: str | Path) -> Iterator[tuple[int, dict | None, str | None]]:
    """Stream ``(line, record, error)`` from a CSV/TSV/JSONL/Parquet file; a bad line yields an error."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    kind = detect_format(path)
    if kind == "jsonl":
        yield from _iter_jsonl(path)
    elif kind in ("csv", "tsv"):
        yield from _iter_csv(path, "\t" if kind == "tsv" else ",")
    else:
        yield from _iter_parquet(path)


def iter_rows(path: str | Path, text_column: str = "text", id_column: str | None = "id",
              ) -> Iterator[Row | RowError]:
    """Stream rows for scoring; malformed rows come back as ``RowError`` and the stream goes on."""
    seen_header = False
    for line, record, error in iter_records(path):
        if error:
            yield RowError(line, error)
            continue
        if not seen_header:
            seen_header = True
            if text_column not in record:
                raise DataError(f"{path}: line {line}: no column {text_column!r} "
                                f"(columns: {', '.join(map(str, record))}); set --text-column")
        text = record.get(text_column)
        if not isinstance(text, str) or not text.strip():
            yield RowError(line, f"field {text_column!r} is empty or not text")
            continue
        row_id = record.get(id_column) if id_column else None
        yield Row(line, str(row_id) if row_id not in (None, "") else str(line), text, record)


def load_labelled(
    source: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    label_map: Mapping[str, int] | None = None,
    split: str | None = None,
    id_column: str | None = "id",
) -> LabelledData:
    """Load labelled text from a file or, for a name that is not a path, a Hugging Face dataset.

    Labels may be 0/1 or names; names are looked up in ``label_map`` and then in common defaults
    (``real``/``fake``, ``no``/``yes``, ...). Any bad row raises ``DataError`` naming file, line and field.
    """
    names = {**DEFAULT_LABEL_NAMES, **{str(k).lower(): int(v) for k, v in (label_map or {}).items()}}
    path = Path(source)
    if not path.exists() and not str(source).endswith((".csv", ".tsv", ".jsonl", ".json", ".parquet")):
        records = _iter_hub(str(source), split or "train")
    else:
        records = iter_records(path)
    texts, labels, ids, problems = [], [], [], []
    for line, record, error in records:
        if error:
            problems.append(f"{source}: line {line}: {error}")
            continue
        for column in (text_column, label_column):
            if column not in record:
                raise DataError(f"{source}: line {line}: missing column {column!r} "
                                f"(columns: {', '.join(map(str, record))})")
        text = record[text_column]
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{source}: line {line}: field {text_column!r} is empty")
            continue
        raw = record[label_column]
        label = names.get(str(raw).strip().lower())
        if label not in (0, 1):
            problems.append(f"{source}: line {line}: field {label_column!r}: unknown label {raw!r}; "
                            f"known: {', '.join(sorted(names))} (map others with label_map)")
            continue
        texts.append(text)
        labels.append(label)
        row_id = record.get(id_column) if id_column else None
        ids.append(str(row_id) if row_id not in (None, "") else f"{Path(str(source)).stem}:{line}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise DataError(f"{len(problems)} bad rows in {source}:\n  {shown}{more}")
    if not texts:
        raise DataError(f"{source}: no rows")
    return LabelledData(texts, labels, ids, str(source))


def stratified_split(data: LabelledData, fraction: float = 0.15, seed: int = 42):
    """Seeded, label-stratified train/validation split."""
    from sklearn.model_selection import train_test_split

    indices = list(range(len(data)))
    train_idx, val_idx = train_test_split(indices, test_size=fraction, random_state=seed,
                                          stratify=data.labels)
    return data.subset(sorted(train_idx)), data.subset(sorted(val_idx))


def _decoded_lines(path: Path) -> Iterator[tuple[int, str | None, str | None]]:
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8"), None
            except UnicodeDecodeError as exc:
                yield number, None, f"invalid UTF-8 at byte {exc.start} of the line"


def _iter_jsonl(path: Path):
    for number, line, error in _decoded_lines(path):
        if error:
            yield number, None, error
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"invalid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(record, dict):
            yield number, None, "expected a JSON object"
            continue
        yield number, record, None


def _iter_csv(path: Path, delimiter: str):
    bad: dict[int, str] = {}
    numbers: list[int] = []

    def lines():
        for number, line, error in _decoded_lines(path):
            if error:
                bad[number] = error
                continue
            numbers.append(number)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    header = None
    reported = 0
    for row in reader:
        # Report undecodable lines in file order, before the row that follows them.
        for number in sorted(n for n in bad if n > reported):
            yield number, None, bad.pop(number)
        start = numbers[-1] if numbers else 0
        if header is None:
            header = row
            if not header:
                raise DataError(f"{path}: line 1: empty header")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield start, None, f"expected {len(header)} fields, found {len(row)}"
            continue
        yield start, dict(zip(header, row)), None
    for number in sorted(bad):
        yield number, None, bad[number]


def _iter_parquet(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("reading Parquet needs pyarrow: pip install 'overclaim[parquet]'") from None
    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            row += 1
            yield row, record, None


def _iter_hub(name: str, split: str):
    try:
        import datasets
    except ImportError:
        raise ImportError(f"{name!r} is not a file; loading hub datasets needs: "
                          "pip install 'overclaim[hub]'") from None
    config = None
    if ":" in name:
        name, config = name.split(":", 1)
    dataset = datasets.load_dataset(name, config, split=split)
    for row, record in enumerate(dataset, 1):
        yield row, record, None


# --- Public datasets -------------------------------------------------------------------------------
# Each is mapped to our binary label; see data/README.md ("Public datasets") for the reasoning.

CONSTRAINT_FILES = {"train": "Constraint_Train.csv", "validation": "Constraint_Val.csv",
                    "test": "english_test_with_labels.csv"}
# PUBHEALTH (health_fact) labels: 0 false, 1 mixture, 2 true, 3 unproven, -1 missing.
# "false" and "unproven" claims are unsupported claims; "true" ones are not; "mixture" is left out as
# neither, and so are rows without a label.
PUBHEALTH_LABELS = {0: 1, 3: 1, 2: 0, "false": 1, "unproven": 1, "true": 0}


def load_constraint(root: str | Path, split: str = "test") -> LabelledData:
    """CONSTRAINT 2021 (English COVID-19 fake news): ``fake`` -> 1, ``real`` -> 0.

    ``root`` is a folder laid out like ``../shared/datasets`` (``constraint2021/data/*.csv``)."""
    if split not in CONSTRAINT_FILES:
        raise ValueError(f"CONSTRAINT split must be one of {', '.join(CONSTRAINT_FILES)}, got {split!r}")
    path = Path(root) / "constraint2021" / "data" / CONSTRAINT_FILES[split]
    data = load_labelled(path, text_column="tweet", label_column="label", label_map={"fake": 1, "real": 0})
    data.source = f"constraint2021:{split}"
    return data


def load_coaid(root: str | Path, kind: str = "all") -> LabelledData:
    """CoAID v0.4, every snapshot: ``*Fake*`` files -> 1, ``*Real*`` -> 0; text is the ``title``.

    Repeated (kind, title) pairs across snapshots are kept once. ``kind`` is claims, news or all."""
    if kind not in ("all", "claims", "news"):
        raise ValueError(f"CoAID kind must be all, claims or news, got {kind!r}")
    folder = Path(root) / "coaid"
    files = sorted(folder.glob("*/*COVID-19.csv"))
    if not files:
        raise DataError(f"{folder}: no CoAID files (expected <snapshot>/{{Claim,News}}{{Fake,Real}}COVID-19.csv)")
    texts, labels, ids, seen = [], [], [], set()
    for path in files:
        name = path.name
        file_kind = "claims" if name.startswith("Claim") else "news"
        if kind != "all" and file_kind != kind:
            continue
        label = 1 if "Fake" in name else 0
        for line, record, error in iter_records(path):
            if error:
                raise DataError(f"{path}: line {line}: {error}")
            title = (record.get("title") or "").strip()
            key = (file_kind, " ".join(title.lower().split()))
            if not title or key in seen:
                continue
            seen.add(key)
            texts.append(title)
            labels.append(label)
            ids.append(f"{path.parent.name}/{name}:{line}")
    return LabelledData(texts, labels, ids, f"coaid:{kind}")


def load_pubhealth(source: str = "health_fact", split: str = "test") -> LabelledData:
    """PUBHEALTH (the hub's ``health_fact``), or a local file with its columns (``claim``, ``label``)."""
    if Path(source).exists():
        records = iter_records(source)
    else:
        records = _iter_hub(source, split)
    texts, labels, ids = [], [], []
    for line, record, error in records:
        if error:
            raise DataError(f"{source}: line {line}: {error}")
        raw = record.get("label")
        key = int(raw) if str(raw).lstrip("-").isdigit() else str(raw).strip().lower()
        if key not in PUBHEALTH_LABELS or not str(record.get("claim") or "").strip():
            continue
        texts.append(record["claim"])
        labels.append(PUBHEALTH_LABELS[key])
        ids.append(str(record.get("claim_id") or f"pubhealth:{line}"))
    return LabelledData(texts, labels, ids, f"pubhealth:{split}")
