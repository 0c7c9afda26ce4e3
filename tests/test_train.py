import json

import pytest

from overclaim import TrainingConfig, train
from overclaim.data import load_labelled


def test_output_is_a_standard_model_folder(trained_tiny):
    names = {p.name for p in trained_tiny.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "training_config.json", "metrics.json",
            "thresholds.json", "README.md"} <= names
    config = json.loads((trained_tiny / "config.json").read_text())
    assert config["id2label"] == {"0": "no_claim", "1": "unsupported_claim"}
    assert config["overclaim_sentence_head"] == "mean_pool"  # trained with the in-pass sentence head
    thresholds = json.loads((trained_tiny / "thresholds.json").read_text())
    assert set(thresholds["thresholds"]) == {"high_precision", "balanced", "high_recall"}
    card = (trained_tiny / "README.md").read_text()
    assert "Measured results" in card and "package versions" in card
    assert not (trained_tiny / "checkpoints").exists()


def test_config_round_trips_through_toml(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[train]\nepochs = 2.0\nlearning_rate = 3e-5\nlabel_map = {fake = 1, real = 0}\n')
    config = TrainingConfig.from_file(path)
    assert config.epochs == 2.0 and config.label_map == {"fake": 1, "real": 0}
    assert TrainingConfig.from_dict(config.to_dict()) == config


def test_config_rejects_bad_values(tmp_path):
    with pytest.raises(ValueError, match="unknown training options: epoch"):
        TrainingConfig.from_dict({"epoch": 3})
    with pytest.raises(ValueError, match="max_length"):
        TrainingConfig(max_length=4096)
    with pytest.raises(ValueError, match="device"):
        TrainingConfig(device="gpu")


def test_asking_for_a_missing_gpu_is_an_error_and_auto_falls_back():
    import torch

    from overclaim.train import training_device

    if torch.cuda.is_available():
        pytest.skip("this check needs a machine without a CUDA GPU")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        training_device("cuda")
    assert training_device("auto") == "cpu"


def test_interrupted_run_resumes_from_its_last_checkpoint(tiny_model_dir, labelled_csv, tmp_path, caplog):
    out = tmp_path / "run"
    config = TrainingConfig(output_dir=str(out), base_model=str(tiny_model_dir), train_file=str(labelled_csv),
                            label_column="label", max_steps=2, batch_size=8, max_length=32,
                            early_stopping_patience=0, keep_checkpoints=True)
    train(config)
    assert any(p.name.startswith("checkpoint-") for p in (out / "checkpoints").iterdir())
    config.max_steps = 4
    with caplog.at_level("INFO", logger="overclaim.train"):
        train(config)
    assert "resuming from" in caplog.text
    assert json.loads((out / "training_config.json").read_text())["max_steps"] == 4


def test_unknown_label_in_training_data_stops_before_training(tmp_path, tiny_model_dir):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nGarlic cures colds.,fake\nWash hands.,unclear\n")
    config = TrainingConfig(output_dir=str(tmp_path / "o"), base_model=str(tiny_model_dir),
                            train_file=str(path), label_column="label")
    with pytest.raises(ValueError, match="line 3: field 'label': unknown label 'unclear'"):
        train(config)
    assert not (tmp_path / "o").exists()


def test_training_metrics_are_recorded(trained_tiny):
    metrics = json.loads((trained_tiny / "metrics.json").read_text())
    assert metrics["train_size"] + metrics["validation_size"] == len(
        load_labelled(json.loads((trained_tiny / "training_config.json").read_text())["train_file"],
                      label_column="label"))
    assert "auroc" in metrics["validation"]["threshold_free"]
    assert metrics["device"] == "cpu"


def test_without_sentence_loss_the_model_scores_sentences_one_by_one(tiny_model_dir, labelled_csv, tmp_path):
    from overclaim import Classifier

    config = TrainingConfig(output_dir=str(tmp_path / "m"), base_model=str(tiny_model_dir),
                            train_file=str(labelled_csv), label_column="label", max_steps=2, batch_size=8,
                            max_length=64, early_stopping_patience=0, sentence_loss_weight=0.0)
    out = train(config)
    assert "overclaim_sentence_head" not in json.loads((out / "config.json").read_text())
    clf = Classifier.load(out, backend="torch")
    assert not clf.backend.sentence_head
    assert len(clf.predict("Garlic cures colds. Buy it now.").sentences) == 2


def test_data_seed_changes_the_run_but_not_its_starting_point(tiny_model_dir, labelled_csv, tmp_path):
    """Soup ingredients: one initialisation (`seed`), each run its own data order (`data_seed`)."""
    from safetensors.torch import load_file

    def run(name: str, **options):
        values = dict(output_dir=str(tmp_path / name), base_model=str(tiny_model_dir), train_file=str(labelled_csv),
                      label_column="label", batch_size=4, max_length=32, early_stopping_patience=0,
                      learning_rate=1e-3, warmup_ratio=0.0)
        config = TrainingConfig(**{**values, **options})
        return load_file(train(config) / "model.safetensors")["classifier.weight"]

    start = run("start", max_steps=1, learning_rate=1e-12)  # the classifier head as initialised
    one, two = run("one", max_steps=3, data_seed=1), run("two", max_steps=3, data_seed=2)
    assert not torch_equal(one, two)
    assert torch_close(run("one_again", max_steps=3, data_seed=1), one)
    assert torch_close(start, run("other_order_start", max_steps=1, learning_rate=1e-12, data_seed=2))


def torch_equal(a, b) -> bool:
    return bool((a == b).all())


def torch_close(a, b) -> bool:
    import torch

    return torch.allclose(a, b, atol=1e-6)
