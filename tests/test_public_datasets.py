"""Adapters for public datasets, on small fixtures written here in the same layouts and columns."""
import csv

import pytest

from overclaim.data import DataError, load_coaid, load_constraint, load_pubhealth

from conftest import write_jsonl


@pytest.fixture
def datasets_root(tmp_path):
    data = tmp_path / "constraint2021" / "data"
    data.mkdir(parents=True)
    for name in ("Constraint_Train.csv", "Constraint_Val.csv", "english_test_with_labels.csv"):
        with open(data / name, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "tweet", "label"])
            w.writerow([1, "Officials report 40 new cases in the county today.", "real"])
            w.writerow([2, "Gargling hot salt water kills the virus in your throat!!", "fake"])
    for snapshot in ("05-01-2020", "07-01-2020"):
        folder = tmp_path / "coaid" / snapshot
        folder.mkdir(parents=True)
        rows = {
            "ClaimFakeCOVID-19.csv": [["", "fact_check_url", "news_url", "title"],
                                      [0, "http://fc.example", "http://n.example", "Drinking hot tea cures the virus"]],
            "ClaimRealCOVID-19.csv": [["", "fact_check_url", "news_url", "title"],
                                      [0, "", "http://n.example", "Washing hands lowers infection risk"]],
            "NewsRealCOVID-19.csv": [["", "type", "fact_check_url", "news_url", "title", "content"],
                                     [0, "article", "", "http://n.example", f"Hospital update {snapshot}", "text"]],
        }
        for name, content in rows.items():
            with open(folder / name, "w", newline="", encoding="utf-8-sig") as fh:
                csv.writer(fh).writerows(content)
    return tmp_path


def test_constraint_maps_fake_to_one(datasets_root):
    data = load_constraint(datasets_root, "test")
    assert data.labels == [0, 1] and data.source == "constraint2021:test"
    with pytest.raises(ValueError, match="split must be one of"):
        load_constraint(datasets_root, "dev")


def test_coaid_reads_every_snapshot_and_keeps_repeated_titles_once(datasets_root):
    data = load_coaid(datasets_root)
    assert sorted(zip(data.texts, data.labels)) == [
        ("Drinking hot tea cures the virus", 1), ("Hospital update 05-01-2020", 0),
        ("Hospital update 07-01-2020", 0), ("Washing hands lowers infection risk", 0)]
    assert len(load_coaid(datasets_root, "claims")) == 2


def test_coaid_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no CoAID files"):
        load_coaid(tmp_path)


def test_pubhealth_mapping_from_a_local_file(tmp_path):
    path = write_jsonl(tmp_path / "health_fact.jsonl", [
        {"claim_id": "a", "claim": "A herbal drink cures diabetes.", "label": 0},
        {"claim_id": "b", "claim": "A study found mixed results.", "label": 1},
        {"claim_id": "c", "claim": "Measles vaccination prevents measles.", "label": 2},
        {"claim_id": "d", "claim": "Magnets relieve arthritis.", "label": 3},
        {"claim_id": "e", "claim": "Unlabelled row.", "label": -1},
    ])
    data = load_pubhealth(str(path))
    assert data.ids == ["a", "c", "d"] and data.labels == [1, 0, 1]
