"""Check one hand-written corpus part (JSONL) against the corpus schema and print its counts.

Usage: python tools/check_part.py data/corpus/raw/A.jsonl
"""
import collections
import json
import re
import sys

FLAG_TYPES = {"unsupported_efficacy", "unsupported_safety", "false_harm"}
SAFE_TYPES = {
    "supported_efficacy", "negated", "debunk_or_report", "hedged", "question",
    "personal_experience_without_claim", "neutral_health", "off_topic",
}
REGISTERS = {
    "tweet", "forum_post", "reddit_post", "marketing_copy", "blog", "news_headline",
    "patient_question", "leaflet", "product_review", "comment",
}
FIELDS = {"id", "text", "flag", "claim_type", "interventions", "conditions", "register",
          "claim_sentences", "pair_id"}


def norm(text):
    return re.sub(r"\W+", " ", text.lower()).strip()


def main(path):
    errors, items = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"line {n}: bad JSON ({exc})")
                continue
            missing = FIELDS - rec.keys()
            extra = rec.keys() - FIELDS
            if missing or extra:
                errors.append(f"line {n}: missing {sorted(missing)} extra {sorted(extra)}")
                continue
            ct, flag = rec["claim_type"], rec["flag"]
            if ct in FLAG_TYPES and flag != 1 or ct in SAFE_TYPES and flag != 0:
                errors.append(f"line {n}: claim_type {ct!r} does not match flag {flag!r}")
            if ct not in FLAG_TYPES | SAFE_TYPES:
                errors.append(f"line {n}: unknown claim_type {ct!r}")
            if rec["register"] not in REGISTERS:
                errors.append(f"line {n}: unknown register {rec['register']!r}")
            words = len(rec["text"].split())
            if words < 4 or words > 260:
                errors.append(f"line {n}: {words} words (want 4..260)")
            for key in ("interventions", "conditions", "claim_sentences"):
                if not isinstance(rec[key], list):
                    errors.append(f"line {n}: {key} must be a list")
            for s in rec["claim_sentences"]:
                if s not in rec["text"]:
                    errors.append(f"line {n}: claim sentence not verbatim in text: {s[:60]!r}")
            if rec["claim_sentences"] and flag != 1:
                errors.append(f"line {n}: claim_sentences only for flag=1 items")
            for v in rec["interventions"] + rec["conditions"]:
                if v != v.lower().strip():
                    errors.append(f"line {n}: names must be lowercase: {v!r}")
            items.append(rec)
    ids = collections.Counter(r["id"] for r in items)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    texts = collections.Counter(norm(r["text"]) for r in items)
    errors += [f"duplicate text: {t[:60]!r}" for t, c in texts.items() if c > 1]
    pairs = collections.defaultdict(list)
    for r in items:
        if r["pair_id"]:
            pairs[r["pair_id"]].append(r)
    for pid, members in pairs.items():
        if len(members) < 2 or not any(m["flag"] == 1 for m in members) or all(m["flag"] == 1 for m in members):
            errors.append(f"pair {pid}: needs one flag=1 item and at least one flag=0 twin")
    for e in errors[:60]:
        print("ERROR", e)
    print(f"{len(errors)} errors, {len(items)} items")
    print("claim_type:", dict(collections.Counter(r["claim_type"] for r in items).most_common()))
    print("register:", dict(collections.Counter(r["register"] for r in items).most_common()))
    print("flag=1 share: %.2f" % (sum(r["flag"] for r in items) / max(1, len(items))))
    multi = sum(1 for r in items if r["claim_sentences"])
    print("items with claim_sentences:", multi, "| pair groups:", len(pairs))
    print("interventions:", len({v for r in items for v in r["interventions"]}),
          "| conditions:", len({v for r in items for v in r["conditions"]}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
