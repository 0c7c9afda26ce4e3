"""Checks on the shipped corpus and behavioural suite (data/)."""
from collections import Counter, defaultdict

import pytest

from overclaim import corpus
from overclaim.evaluate import STANCE_PROBES, load_functional_suite


@pytest.fixture(scope="module")
def records():
    return corpus.load_corpus()


def test_schema(records):
    for r in records:
        assert tuple(r) == corpus.FIELDS, r["id"]
        assert isinstance(r["text"], str) and r["text"].strip(), r["id"]
        assert r["claim_type"] in corpus.CLAIM_TYPES, r["id"]
        assert r["flag"] == int(r["claim_type"] in corpus.FLAG_TYPES), r["id"]
        assert r["register"] in corpus.REGISTERS, r["id"]
        assert r["split"] in corpus.SPLITS and r["random_split"] in corpus.SPLITS, r["id"]
        assert all(c in r["text"] for c in r["claim_sentences"]), r["id"]
        assert not r["claim_sentences"] or r["flag"] == 1, r["id"]


def test_ids_unique(records):
    assert len({r["id"] for r in records}) == len(records)


def test_no_normalised_duplicates(records):
    counts = Counter(corpus.normalise(r["text"]) for r in records)
    assert [t for t, n in counts.items() if n > 1] == []


def test_no_near_duplicates_across_splits(records):
    from sklearn.feature_extraction.text import TfidfVectorizer

    for column in ("split", "random_split"):
        vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(
            [corpus.normalise(r["text"]) for r in records])
        similar = (vectors @ vectors.T).tocoo()
        crossing = [(records[i]["id"], records[j]["id"]) for i, j, v in zip(similar.row, similar.col, similar.data)
                    if i < j and v >= 0.9 and records[i][column] != records[j][column]]
        assert crossing == [], column


def test_held_out_interventions_never_occur_in_training(records):
    seen = defaultdict(set)
    for r in records:
        seen[r["split"]].update(r["interventions"])
    assert seen["test"] - seen["train"], "test must hold interventions unseen in training"
    for r in records:
        if r["split"] == "train":
            assert not set(r["interventions"]) & (seen["test"] - seen["train"])


def test_every_claim_type_in_every_split(records):
    for column in ("split", "random_split"):
        present = {(r[column], r["claim_type"]) for r in records}
        assert {(s, t) for s in corpus.SPLITS for t in corpus.CLAIM_TYPES} <= present


def test_contrast_pairs_are_complete_and_stay_in_one_split(records):
    groups = defaultdict(list)
    for r in records:
        if r["pair_id"]:
            groups[r["pair_id"]].append(r)
    for pair_id, members in groups.items():
        assert {m["flag"] for m in members} == {0, 1}, pair_id
        assert len({m["split"] for m in members}) == 1, pair_id
        assert len({m["random_split"] for m in members}) == 1, pair_id


def test_sizes_meet_the_datasheet(records):
    types = Counter(r["claim_type"] for r in records)
    assert len(records) >= 4000
    assert min(types.values()) >= 200
    assert 0.35 <= sum(r["flag"] for r in records) / len(records) <= 0.50
    assert sum(1 for r in records if r["claim_sentences"]) >= 1000
    assert len({r["pair_id"] for r in records if r["pair_id"]}) >= 400
    assert len({i for r in records for i in r["interventions"]}) >= 100
    assert len({c for r in records for c in r["conditions"]}) >= 50


def test_functional_suite_is_well_formed_and_separate_from_the_corpus(records):
    cases = load_functional_suite()
    per_test = Counter(c["test"] for c in cases)
    assert len(per_test) >= 25 and min(per_test.values()) >= 20
    for test in per_test:
        assert len({c["expected_flag"] for c in cases if c["test"] == test}) == 1, test
    from overclaim.leakage import overlap

    near = overlap([c["text"] for c in cases], [r["text"] for r in records], threshold=0.8)
    assert near["total"] == 0, [records[i]["id"] for i in near["overlapping_indices"]]


def test_stance_probes_are_balanced_and_unseen(records):
    """The probes check part V from outside; parts written after them keep 0.6 away, earlier ones 0.8."""
    from overclaim.leakage import overlap

    probes = load_functional_suite(STANCE_PROBES)
    assert Counter(c["test"] for c in probes) == {
        "double_negation_claim": 20, "double_negation_supported": 20, "sarcasm": 20, "sincere_claim": 20}
    later = [r for r in records if r["id"][0] >= "V"]
    assert later, "part V is missing"
    for written, threshold in ((records, 0.8), (later, 0.6)):
        near = overlap([c["text"] for c in probes], [r["text"] for r in written], threshold=threshold)
        assert near["total"] == 0, [written[i]["id"] for i in near["overlapping_indices"]]


def test_labelled_split_carries_claim_sentences_for_the_sentence_head():
    records = [
        {"id": "x1", "text": "I run daily. Garlic cured my flu overnight.", "flag": 1, "split": "train",
         "claim_sentences": ["Garlic cured my flu overnight."]},
        {"id": "x2", "text": "Flu shots lower the risk of flu.", "flag": 0, "split": "train", "claim_sentences": []},
    ]
    data = corpus.as_labelled(records, "train", claim_sentences=True)
    assert data.texts[:2] == [r["text"] for r in records]
    assert data.claims_of(0) == ["Garlic cured my flu overnight."]
    # the claim sentence and one context sentence are extra examples, without sentence annotations
    assert data.texts[2:] == ["Garlic cured my flu overnight.", "I run daily."]
    assert data.claims_of(2) is None and len(data.claim_sentences) == len(data)
