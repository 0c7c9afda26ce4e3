import pytest

from overclaim.data import DataError, Row, RowError, iter_rows, load_labelled, stratified_split

from conftest import write_jsonl


def test_csv_with_label_names(labelled_csv):
    data = load_labelled(labelled_csv, label_column="label")
    assert len(data) == 36 and set(data.labels) == {0, 1}
    assert data.ids[0] == "c0"


def test_custom_label_map(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,verdict\nGarlic cures colds for sure.,bogus\nWash your hands.,fine\n")
    data = load_labelled(path, label_column="verdict", label_map={"bogus": 1, "fine": 0})
    assert data.labels == [1, 0]


def test_unknown_label_names_file_line_and_field(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\nGarlic cures colds.,fake\nWash hands.,maybe\n")
    with pytest.raises(DataError, match=r"d\.csv: line 3: field 'label': unknown label 'maybe'"):
        load_labelled(path)


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("body,label\nsome text,1\n")
    with pytest.raises(DataError, match="missing column 'text'"):
        load_labelled(path)


def test_empty_text_is_reported(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "fine text", "label": 0}, {"text": "  ", "label": 1}])
    with pytest.raises(DataError, match="line 2: field 'text' is empty"):
        load_labelled(path)


def test_invalid_utf8_is_reported_with_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"text,label\nok text,0\nbad \xff\xfe bytes,1\nmore,1\n")
    with pytest.raises(DataError, match="line 3: invalid UTF-8"):
        load_labelled(path)


def test_broken_jsonl_line_does_not_stop_the_stream(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", [
        {"id": "a", "text": "first post"}, '{"id": "b", "text": broken', {"id": "c", "text": "third post"}])
    rows = list(iter_rows(path))
    assert [type(r) for r in rows] == [Row, RowError, Row]
    assert rows[1].line == 2 and "invalid JSON" in rows[1].message
    assert [r.id for r in rows if isinstance(r, Row)] == ["a", "c"]


def test_streaming_csv_without_text_column_fails_clearly(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("id,body\n1,hello\n")
    with pytest.raises(DataError, match="no column 'text'.*--text-column"):
        list(iter_rows(path))


def test_parquet_rows(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"id": ["x", "y"], "text": ["one post", "two posts"], "label": [0, 1]}), path)
    assert load_labelled(path).labels == [0, 1]


def test_stratified_split_is_seeded_and_keeps_both_classes(labelled_csv):
    data = load_labelled(labelled_csv, label_column="label")
    a_train, a_val = stratified_split(data, 0.25, seed=1)
    b_train, b_val = stratified_split(data, 0.25, seed=1)
    assert a_val.ids == b_val.ids and set(a_val.labels) == {0, 1}
    assert len(a_train) + len(a_val) == len(data)


def test_unknown_file_type(tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        load_labelled(path)
