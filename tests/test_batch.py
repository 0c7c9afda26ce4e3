import json

import pytest

from overclaim import Classifier
from overclaim.batch import screen

from conftest import write_jsonl


@pytest.fixture(scope="module")
def clf(trained_tiny):
    return Classifier.load(trained_tiny, backend="torch")


def _posts(tmp_path, n=600, broken=(5, 400)):
    rows = []
    for i in range(n):
        rows.append('{"id": "x", "text": ' if i in broken else {"id": f"p{i}", "text": f"Post {i}: zinc and colds."})
    return write_jsonl(tmp_path / "posts.jsonl", rows)


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_screen_writes_every_row_once_and_reports_malformed(clf, tmp_path):
    src = _posts(tmp_path)
    report = screen(clf, src, tmp_path / "out.jsonl", progress=False)
    assert (report.scored, report.errors) == (598, 2)
    assert len({r["id"] for r in _read(tmp_path / "out.jsonl")}) == 598
    assert [e["line"] for e in _read(tmp_path / "out.errors.jsonl")] == [6, 401]


def test_interrupted_screen_resumes_without_duplicates(clf, tmp_path):
    src = _posts(tmp_path)
    out = tmp_path / "out.jsonl"
    screen(clf, src, out, progress=False)
    complete = out.read_text().splitlines()
    # Simulate a kill mid-write: keep the first 300 records and half of the next one.
    out.write_text("\n".join(complete[:300]) + "\n" + complete[300][:40])
    report = screen(clf, src, out, progress=False)
    assert report.skipped == 300 + 2 and report.scored == 298
    records = _read(out)
    assert len(records) == 598 and len({r["line"] for r in records}) == 598
    assert len(_read(tmp_path / "out.errors.jsonl")) == 2


def test_screen_rejects_a_foreign_output_file(clf, tmp_path):
    src = _posts(tmp_path, n=3, broken=())
    out = tmp_path / "out.jsonl"
    out.write_text('{"something": 1}\n')
    with pytest.raises(ValueError, match="not an overclaim output file"):
        screen(clf, src, out, progress=False)


def test_screen_reads_parquet(clf, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "body": ["Garlic cures colds.", "Clinic opens at 9."]}), path)
    report = screen(clf, path, tmp_path / "out.jsonl", text_column="body", progress=False)
    assert report.scored == 2 and [r["id"] for r in _read(tmp_path / "out.jsonl")] == ["a", "b"]
