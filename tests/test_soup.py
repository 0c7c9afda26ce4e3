import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from conftest import CLAIMS, SAFE, write_jsonl
from overclaim import Classifier
from overclaim.soup import SOUP_FILE, average_weights, make_soup


def _variant(tiny_model_dir, folder, seed: int, hidden: int | None = None):
    """A copy of the tiny model folder with other random weights (and optionally another width)."""
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig.from_pretrained(tiny_model_dir)
    if hidden:
        config.hidden_size, config.intermediate_size = hidden, hidden * 2
    torch.manual_seed(seed)
    shutil.copytree(tiny_model_dir, folder)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture()
def runs(tiny_model_dir, tmp_path):
    return [_variant(tiny_model_dir, tmp_path / f"run{i}", seed=i) for i in range(3)]


def test_soup_weights_are_the_mean_of_the_runs(runs, tmp_path):
    out = average_weights(runs, tmp_path / "soup")
    soup = load_file(out / "model.safetensors")
    parts = [load_file(r / "model.safetensors") for r in runs]
    for name in ("classifier.weight", "bert.encoder.layer.0.attention.self.query.weight"):
        expected = sum(p[name].double() for p in parts) / len(parts)
        torch.testing.assert_close(soup[name].double(), expected, rtol=0, atol=1e-6)
        assert soup[name].dtype == parts[0][name].dtype
    clf = Classifier.load(out, backend="torch")  # a complete model folder: config and tokenizer came along
    assert 0 <= clf.predict(CLAIMS[0]).score <= 1


def test_soup_refuses_runs_of_other_shapes(runs, tiny_model_dir, tmp_path):
    wide = _variant(tiny_model_dir, tmp_path / "wide", seed=9, hidden=48)
    with pytest.raises(ValueError, match="wide"):
        average_weights([runs[0], wide], tmp_path / "soup")


def test_soup_refuses_runs_of_other_base_models(runs, tmp_path):
    for run, base in zip(runs[:2], ("base-a", "base-b")):
        (run / "training_config.json").write_text(json.dumps({"base_model": base}))
    with pytest.raises(ValueError, match="one base model"):
        average_weights(runs[:2], tmp_path / "soup")


@pytest.mark.parametrize("recipe", ["greedy", "uniform"])
def test_make_soup_records_its_choice_and_calibrates(runs, tmp_path, recipe):
    rows = [{"text": t, "label": 1} for t in CLAIMS] + [{"text": t, "label": 0} for t in SAFE]
    validation = write_jsonl(tmp_path / "validation.jsonl", rows)
    out = tmp_path / "soup"
    record = make_soup(runs, out, recipe=recipe, validation=str(validation))

    single = record["ingredient_validation_f1"]
    assert set(single) == {str(r) for r in runs}
    if recipe == "uniform":
        assert record["ingredients"] == [str(r) for r in runs]
    else:
        # Greedy starts from the best run alone and never lets validation F1 fall below it.
        assert single[record["ingredients"][0]] == max(single.values())
        assert record["validation_f1"] >= max(single.values()) - 1e-9
    assert json.loads((out / SOUP_FILE).read_text()) == record
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["validation"]["balanced"]["f1"] == pytest.approx(record["validation_f1"], abs=1e-6)
    assert (out / "thresholds.json").is_file()


def test_cli_soup_lists_each_run_and_the_result(runs, tmp_path, capsys):
    from overclaim.cli import main

    rows = [{"text": t, "label": 1} for t in CLAIMS] + [{"text": t, "label": 0} for t in SAFE]
    validation = write_jsonl(tmp_path / "validation.jsonl", rows)
    assert main(["soup", *map(str, runs[:2]), "--output", str(tmp_path / "soup"), "--recipe", "uniform",
                 "--validation", str(validation)]) == 0
    out = capsys.readouterr().out
    assert all(f"in   {r}: validation F1" in out for r in runs[:2])
    assert "uniform soup of 2 runs" in out
