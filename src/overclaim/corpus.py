"""The project corpus: assembling it, splitting it by intervention, and describing it."""
from __future__ import annotations

import json
import random
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from .data import LabelledData
from .leakage import char_ngram_vectorizer, normalise

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
CORPUS_FILE = DATA_DIR / "corpus" / "corpus.jsonl"
FLAG_TYPES = ("unsupported_efficacy", "unsupported_safety", "false_harm")
SAFE_TYPES = ("supported_efficacy", "negated", "debunk_or_report", "hedged", "question",
              "personal_experience_without_claim", "neutral_health", "off_topic")
CLAIM_TYPES = FLAG_TYPES + SAFE_TYPES
REGISTERS = ("tweet", "forum_post", "reddit_post", "marketing_copy", "blog", "news_headline",
             "patient_question", "leaflet", "product_review", "comment")
SPLITS = ("train", "validation", "test")
FIELDS = ("id", "text", "flag", "claim_type", "interventions", "conditions", "register",
          "claim_sentences", "pair_id", "split", "random_split")
HELD_OUT_SHARE = 0.15  # of the intervention-bearing units, for validation and for test each
COMMON_INTERVENTION_SHARE = 0.02  # interventions in more units than this always stay in training


def load_corpus(path: str | Path = CORPUS_FILE) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: corpus not found; build it with: overclaim data build")
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def as_labelled(records: Sequence[dict], split: str, split_column: str = "split",
                claim_sentences: bool = False) -> LabelledData:
    """The texts and flags of one split; optionally each annotated sentence as an extra example."""
    from .sentences import claim_spans, overlaps_any, split_sentences

    chosen = [r for r in records if r[split_column] == split]
    texts, labels, ids = [r["text"] for r in chosen], [r["flag"] for r in chosen], [r["id"] for r in chosen]
    annotated: list[list[str] | None] = [list(r.get("claim_sentences") or []) for r in chosen]
    if claim_sentences:
        for r in chosen:
            claims = claim_spans(r["text"], r.get("claim_sentences"))
            if not claims:
                continue
            spans = split_sentences(r["text"])
            context = []
            for span in spans:
                piece = r["text"][span.start:span.end]
                if overlaps_any(span.start, span.end, claims):
                    texts.append(piece)
                    labels.append(1)
                    ids.append(f"{r['id']}#{span.start}")
                    annotated.append(None)
                elif len(piece.split()) >= 3:
                    context.append((span.start, piece))
            # One context sentence per item teaches that backstory alone is not a claim, without
            # doubling the training time.
            if context:
                start, piece = random.Random(zlib.crc32(r["id"].encode())).choice(context)
                texts.append(piece)
                labels.append(0)
                ids.append(f"{r['id']}#{start}")
                annotated.append(None)
    return LabelledData(texts, labels, ids, f"corpus:{split_column}={split}", annotated)


def build(sources: Iterable[str | Path], out: str | Path = CORPUS_FILE, seed: int = 13,
          near_duplicate: float = 0.9, previous: Sequence[dict] | None = None) -> dict:
    """Merge JSONL parts, drop duplicates, assign both splits and write the corpus. Returns a report.

    With ``previous`` (an earlier build), items and interventions keep their earlier splits, so a model
    trained on the earlier corpus is never tested on items it was trained on; only new ones are assigned.
    """
    records = [json.loads(line) for src in sources for line in open(src, encoding="utf-8") if line.strip()]
    records, dropped = _drop_duplicates(records, near_duplicate)
    records, near_suite = _drop_near_functional_cases(records)
    dropped += near_suite
    _unpair_broken_groups(records)
    units = _units(records)
    fixed = _previous_assignment(previous) if previous else None
    for attempt in range(200):
        _split_by_intervention(units, seed + attempt, fixed)
        _random_split(units, seed + attempt, fixed)
        if _every_type_everywhere(records):
            break
    else:
        raise RuntimeError("could not find a split with every claim_type in every split")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for r in sorted(records, key=lambda r: r["id"]):
            fh.write(json.dumps({k: r.get(k) for k in FIELDS}, ensure_ascii=False) + "\n")
    return {"written": len(records), "dropped_duplicates": dropped, "seed": seed + attempt}


def _drop_duplicates(records: list[dict], threshold: float):
    """Drop exact (normalised) and near duplicates, except between members of one contrast group."""
    seen: set[str] = set()
    kept = []
    dropped = []
    for r in records:
        key = normalise(r["text"])
        if key in seen:
            dropped.append(r["id"])
            continue
        seen.add(key)
        kept.append(r)
    vectors = char_ngram_vectorizer().fit_transform([normalise(r["text"]) for r in kept])
    similar = (vectors @ vectors.T).tocoo()
    remove: set[int] = set()
    for i, j, value in zip(similar.row, similar.col, similar.data):
        if i < j and value >= threshold and i not in remove:
            a, b = kept[i], kept[j]
            if a.get("pair_id") and a.get("pair_id") == b.get("pair_id"):
                continue
            remove.add(j)
    dropped += [kept[j]["id"] for j in sorted(remove)]
    return [r for k, r in enumerate(kept) if k not in remove], dropped


def _unpair_broken_groups(records: list[dict]) -> None:
    """A contrast group that lost its flagged anchor or all its twins to a drop is no longer a pair."""
    groups = defaultdict(list)
    for r in records:
        if r.get("pair_id"):
            groups[r["pair_id"]].append(r)
    for members in groups.values():
        if {m["flag"] for m in members} != {0, 1}:
            for m in members:
                m["pair_id"] = None


def _drop_near_functional_cases(records: list[dict], threshold: float = 0.8):
    """Keep the behavioural suite and the stance probes independent: drop corpus items that nearly repeat
    one of their cases."""
    from .evaluate import FUNCTIONAL_SUITE, STANCE_PROBES, load_functional_suite
    from .leakage import overlap

    close: set[int] = set()
    # One comparison per file: the n-gram weights are fitted on the cases compared against.
    for path in (FUNCTIONAL_SUITE, STANCE_PROBES):
        if path.exists():
            cases = [c["text"] for c in load_functional_suite(path)]
            close.update(overlap(cases, [r["text"] for r in records], threshold)["overlapping_indices"])
    return [r for k, r in enumerate(records) if k not in close], [records[k]["id"] for k in sorted(close)]


def _units(records: list[dict]) -> list[list[dict]]:
    """Contrast groups travel together; every other record is its own unit."""
    groups: dict[str, list[dict]] = defaultdict(list)
    units = []
    for r in records:
        if r.get("pair_id"):
            groups[r["pair_id"]].append(r)
        else:
            units.append([r])
    return units + list(groups.values())


def _previous_assignment(previous: Sequence[dict]) -> dict:
    """Held-out interventions, known interventions and per-item splits of an earlier build."""
    seen = defaultdict(set)
    for r in previous:
        seen[r["split"]].update(r["interventions"])
    # Validation items never name a test intervention, while test items may name validation ones.
    held = {i: "validation" for i in seen["validation"] - seen["train"]}
    held.update({i: "test" for i in seen["test"] - seen["train"] - seen["validation"]})
    return {"interventions": held, "known": set().union(*seen.values()),
            "split": {r["id"]: r["split"] for r in previous},
            "random_split": {r["id"]: r["random_split"] for r in previous}}


def _split_by_intervention(units: list[list[dict]], seed: int, fixed: dict | None = None) -> dict[str, str]:
    """Hold out whole interventions: a unit goes to test if it names a test intervention, else to
    validation if it names a validation one, else to train. So no held-out intervention is trained on."""
    rng = random.Random(seed)
    mentions = [sorted({i for r in unit for i in r["interventions"]}) for unit in units]
    frequency = Counter(i for m in mentions for i in m)
    bearing = sum(1 for m in mentions if m)
    known = fixed["known"] if fixed else set()
    candidates = sorted(i for i, n in frequency.items()
                        if n <= COMMON_INTERVENTION_SHARE * bearing and i not in known)
    rng.shuffle(candidates)
    assignment: dict[str, str] = {}
    status = ["train"] * len(units)
    by_intervention = defaultdict(list)
    for k, m in enumerate(mentions):
        for i in m:
            by_intervention[i].append(k)
    if fixed:
        for held in ("test", "validation"):
            for intervention, split in fixed["interventions"].items():
                if split == held:
                    assignment[intervention] = held
                    for k in by_intervention.get(intervention, []):
                        if status[k] == "train":
                            status[k] = held
    target = HELD_OUT_SHARE * bearing
    for held in ("test", "validation"):
        for intervention in candidates:
            if sum(1 for s in status if s == held) >= target:
                break
            if intervention in assignment:
                continue
            assignment[intervention] = held
            for k in by_intervention[intervention]:
                if status[k] == "train":
                    status[k] = held
    free = [k for k, m in enumerate(mentions) if not m]
    if fixed:
        old = {k: fixed["split"].get(units[k][0]["id"]) for k in free}
        for k, split in old.items():
            if split:
                status[k] = split
        free = [k for k in free if not old[k]]
    _stratified_assign(units, free, status, rng)
    for unit, split in zip(units, status):
        for r in unit:
            r["split"] = split
    return assignment


def _random_split(units: list[list[dict]], seed: int, fixed: dict | None = None) -> None:
    rng = random.Random(seed)
    status = [""] * len(units)
    new = list(range(len(units)))
    if fixed:
        for k in range(len(units)):
            status[k] = fixed["random_split"].get(units[k][0]["id"], "")
        new = [k for k in new if not status[k]]
    _stratified_assign(units, new, status, rng)
    for unit, split in zip(units, status):
        for r in unit:
            r["random_split"] = split


def _stratified_assign(units, indices, status, rng) -> None:
    by_type = defaultdict(list)
    for k in indices:
        by_type[units[k][0]["claim_type"]].append(k)
    for keys in by_type.values():
        rng.shuffle(keys)
        n = len(keys)
        for pos, k in enumerate(keys):
            status[k] = "test" if pos < round(n * 0.15) else "validation" if pos < round(n * 0.30) else "train"


def _every_type_everywhere(records) -> bool:
    for column in ("split", "random_split"):
        present = {(r[column], r["claim_type"]) for r in records}
        if any((s, t) not in present for s in SPLITS for t in CLAIM_TYPES):
            return False
    return True


def stats(records: Sequence[dict]) -> str:
    """Markdown tables describing the corpus (pasted into data/README.md)."""
    lines = []
    n = len(records)
    flagged = sum(r["flag"] for r in records)
    words = sorted(len(r["text"].split()) for r in records)
    multi = sum(1 for r in records if r["claim_sentences"])
    pairs = {r["pair_id"] for r in records if r["pair_id"]}
    anchors = {r["pair_id"] for r in records if r["pair_id"] and r["flag"] == 1}
    lines += [
        f"- items: {n}; flag=1: {flagged} ({flagged / n:.1%})",
        f"- words per item: min {words[0]}, median {words[n // 2]}, max {words[-1]}",
        f"- distinct interventions: {len({i for r in records for i in r['interventions']})}; "
        f"distinct conditions: {len({c for r in records for c in r['conditions']})}",
        f"- multi-sentence flagged items with annotated claim sentences: {multi}",
        f"- contrast groups: {len(pairs)} (flagged anchors: {len(anchors)}; "
        f"items in groups: {sum(1 for r in records if r['pair_id'])})",
        "",
    ]
    lines += _table("claim_type", records, CLAIM_TYPES, "split")
    lines += _table("register", records, REGISTERS, "split")
    lines += _table("claim_type", records, CLAIM_TYPES, "random_split", title="claim_type by random split")
    held = defaultdict(set)
    for r in records:
        held[r["split"]].update(r["interventions"])
    lines += ["Interventions per intervention-disjoint split: " + ", ".join(
        f"{s} {len(held[s])}" for s in SPLITS) + f"; shared between train and held-out splits: "
        f"{len(held['train'] & (held['validation'] | held['test']))}", ""]
    return "\n".join(lines)


def _table(field: str, records, values, split_column: str, title: str | None = None) -> list[str]:
    counts = Counter((r[field], r[split_column]) for r in records)
    rows = [f"**{title or field + ' by split'}**", "",
            f"| {field} | " + " | ".join(SPLITS) + " | total |", "|---|" + "---:|" * (len(SPLITS) + 1)]
    for v in values:
        cells = [counts[(v, s)] for s in SPLITS]
        rows.append(f"| {v} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
    totals = [sum(counts[(v, s)] for v in values) for s in SPLITS]
    rows += ["| **all** | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |", ""]
    return rows
