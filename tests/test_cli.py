import json

from overclaim.cli import main, render_verdict
from overclaim.predict import Prediction, SentenceScore

from conftest import write_jsonl


def test_predict_text_prints_a_verdict(trained_tiny, capsys):
    assert main(["predict", "--model", str(trained_tiny), "--threshold", "0", "Garlic cures colds. Really."]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FLAGGED  score")
    assert ">>" in out


def test_predict_json(trained_tiny, capsys):
    assert main(["predict", "--model", str(trained_tiny), "--json", "Garlic cures colds."]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {"score", "flagged", "threshold", "sentences"} <= set(record)


def test_jsonl_with_a_broken_line_scores_every_other_line(trained_tiny, tmp_path, capsys):
    rows = [{"id": f"p{i}", "text": f"Post number {i} about vitamin D."} for i in range(5)]
    rows.insert(2, '{"id": "broken", "text": ')
    src = write_jsonl(tmp_path / "posts.jsonl", rows)
    out, errors = tmp_path / "scored.jsonl", tmp_path / "errors.jsonl"
    assert main(["predict", "--model", str(trained_tiny), "--input", str(src), "--output", str(out),
                 "--errors", str(errors)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records if "error" not in r] == [f"p{i}" for i in range(5)]
    assert [r["line"] for r in records if "error" in r] == [3]
    assert json.loads(errors.read_text())["line"] == 3
    assert "malformed 1" in capsys.readouterr().err


def test_csv_with_custom_text_column_keeps_ids_and_fields(trained_tiny, tmp_path):
    src = tmp_path / "posts.csv"
    src.write_text('post_id,body,author\n7,"Sea moss cures everything.",ann\n8,"Clinic opens at 9.",bob\n')
    out = tmp_path / "scored.jsonl"
    assert main(["predict", "--model", str(trained_tiny), "--input", str(src), "--text-column", "body",
                 "--id-column", "post_id", "--output", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["7", "8"]
    assert records[0]["input"]["author"] == "ann"


def test_csv_missing_text_column_is_a_clear_error(trained_tiny, tmp_path, capsys):
    src = tmp_path / "posts.csv"
    src.write_text("id,body\n1,hello\n")
    assert main(["predict", "--model", str(trained_tiny), "--input", str(src)]) == 1
    assert "no column 'text'" in capsys.readouterr().err


def test_missing_model_is_a_clear_error(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "none"), "hello there"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_render_marks_flagged_sentences():
    text = "Hi all. Kratom cured my pain."
    p = Prediction(text, 0.9, True, 0.5, [SentenceScore("Hi all.", 0, 7, 0.1),
                                          SentenceScore("Kratom cured my pain.", 8, 29, 0.95)])
    out = render_verdict(p)
    assert "Hi all. >>Kratom cured my pain.<<" in out


def test_train_command_accepts_config_and_flags(tiny_model_dir, labelled_csv, tmp_path, capsys):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"base_model": str(tiny_model_dir), "train_file": str(labelled_csv),
                                  "label_column": "label", "max_length": 32, "early_stopping_patience": 0}))
    out = tmp_path / "model"
    assert main(["train", "--config", str(config), "--max-steps", "2", "--output-dir", str(out)]) == 0
    assert json.loads((out / "training_config.json").read_text())["max_steps"] == 2
    assert "validation: F1" in capsys.readouterr().out


def test_train_flags_parse_optional_numbers_as_numbers():
    from overclaim.cli import build_parser

    args = build_parser().parse_args(["train", "--threads", "2", "--data-seed", "5", "--learning-rate", "1e-4"])
    assert (args.threads, args.data_seed, args.learning_rate) == (2, 5, 1e-4)
