import json

import pytest

from overclaim.benchmark import BenchmarkConfig, ClassifierSpec, run_benchmark
from overclaim.cli import main

from conftest import CLAIMS, SAFE


@pytest.fixture
def files(tmp_path):
    def write(name, rows, header="text,label"):
        path = tmp_path / name
        path.write_text(header + "\n" + "\n".join(f'"{t}",{y}' for t, y in rows) + "\n")
        return str(path)

    rows = [(t, 1) for t in CLAIMS] + [(t, 0) for t in SAFE]
    return {
        "train": write("train.csv", rows * 4),
        "test": write("test.csv", rows),
        "nolabel": write("nolabel.csv", rows, header="text,verdict"),
    }


def _config(tmp_path, files, classifiers, test_sets):
    return BenchmarkConfig(run="t", output_dir=str(tmp_path / "results"), classifiers=classifiers,
                           train_sets=[files["train"]], test_sets=test_sets, bootstrap=50)


def test_matrix_writes_results_summary_and_plots(tmp_path, files, trained_tiny):
    classifiers = [ClassifierSpec("tfidf", "tfidf_lr"), ClassifierSpec("keyword", "keyword"),
                   ClassifierSpec("tiny", "model", str(trained_tiny)),
                   ClassifierSpec("length", "callable", "bench_callables:length_score")]
    result = run_benchmark(_config(tmp_path, files, classifiers, [files["test"], "functional"]), argv=["x"],
                           progress=False)
    assert result["schema_version"] == 1
    assert {"command", "packages", "seeds", "config"} <= set(result)
    cells = {(c["classifier"], c["test_set"]): c for c in result["cells"]}
    assert len(cells) == 8 and not [c for c in result["cells"] if "error" in c]
    tfidf = cells[("tfidf", files["test"])]
    assert {"precision", "recall", "f1", "macro_f1", "auroc", "auprc", "brier", "ece", "f1_ci95"} <= set(
        tfidf["metrics"]["balanced"])
    assert tfidf["leakage"]["exact"] == len(CLAIMS + SAFE)  # the test rows repeat training rows
    assert "functional" in cells[("keyword", "functional")]
    out = tmp_path / "results" / "t"
    assert (out / "summary.md").read_text().startswith("# Benchmark")
    assert (out / "cross_dataset_f1.png").exists() and (out / "functional_pass_rates.png").exists()
    assert json.loads((out / "results.json").read_text())["cells"]


def test_finished_cells_are_skipped_unless_forced(tmp_path, files):
    config = _config(tmp_path, files, [ClassifierSpec("tfidf", "tfidf_lr")], [files["test"]])
    first = run_benchmark(config, progress=False)["cells"][0]
    again = run_benchmark(config, progress=False)["cells"][0]
    assert again["seconds"] == first["seconds"]  # read back, not recomputed
    cell_file = next((tmp_path / "results" / "t" / "cells").glob("*.json"))
    cell_file.write_text(cell_file.read_text().replace('"n": 12', '"n": 999'))
    assert run_benchmark(config, progress=False)["cells"][0]["n"] == 999
    config.force = True
    assert run_benchmark(config, progress=False)["cells"][0]["n"] == 12


def test_changed_data_or_model_under_the_same_name_is_recomputed(tmp_path, files, trained_tiny):
    import shutil

    config = _config(tmp_path, files, [ClassifierSpec("tfidf", "tfidf_lr")], [files["test"]])
    assert run_benchmark(config, progress=False)["cells"][0]["n"] == 12
    with open(files["test"], "a") as fh:
        fh.write('"One more safe post about a pharmacy visit.",0\n')
    assert run_benchmark(config, progress=False)["cells"][0]["n"] == 13

    model = tmp_path / "model"
    shutil.copytree(trained_tiny, model)
    config = _config(tmp_path, files, [ClassifierSpec("tiny", "model", str(model))], [files["test"]])
    first = run_benchmark(config, progress=False)["cells"][0]
    thresholds = json.loads((model / "thresholds.json").read_text())
    thresholds["thresholds"]["balanced"]["threshold"] = 0.123
    (model / "thresholds.json").write_text(json.dumps(thresholds))
    again = run_benchmark(config, progress=False)["cells"][0]
    assert first["metrics"]["balanced"]["threshold"] != again["metrics"]["balanced"]["threshold"] == 0.123


def test_bad_cells_fail_alone_with_a_clear_error(tmp_path, files):
    classifiers = [ClassifierSpec("tfidf", "tfidf_lr"),
                   ClassifierSpec("broken-import", "callable", "no_such_module_xyz:score"),
                   ClassifierSpec("short", "callable", "bench_callables:wrong_count")]
    result = run_benchmark(_config(tmp_path, files, classifiers, [files["test"], files["nolabel"]]),
                           progress=False)
    errors = {(c["classifier"], c["test_set"]): c.get("error") for c in result["cells"]}
    assert errors[("tfidf", files["test"])] is None
    assert "missing column 'label'" in errors[("tfidf", files["nolabel"])]
    assert "No module named 'no_such_module_xyz'" in errors[("broken-import", files["test"])]
    assert "returned 11 scores for 12 texts" in errors[("short", files["test"])]
    summary = (tmp_path / "results" / "t" / "summary.md").read_text()
    assert "## Cells that failed" in summary and "broken-import" in summary


def test_cli_exit_code_reports_failed_cells(tmp_path, files, capsys):
    code = main(["benchmark", "--output-dir", str(tmp_path / "r"), "--run", "cli", "--bootstrap", "20",
                 "--train-set", files["train"], "--test-set", files["test"],
                 "--callable", "bench_callables:wrong_count"])
    captured = capsys.readouterr()
    assert code == 1 and "cell failed: bench_callables:wrong_count" in captured.err
