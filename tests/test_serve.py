import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from overclaim import Classifier  # noqa: E402
from overclaim.serve import ServeLimits, create_app  # noqa: E402


@pytest.fixture(scope="module")
def clf(trained_tiny):
    return Classifier.load(trained_tiny, backend="torch")


@pytest.fixture
def client(clf):
    with TestClient(create_app(clf, ServeLimits(max_chars=500, max_texts=4, max_body_bytes=20_000),
                               api_key="")) as c:
        yield c


def test_score_one_and_many(client):
    one = client.post("/v1/score", json={"text": "Garlic cures colds. Really."}).json()
    assert len(one["predictions"]) == 1
    p = one["predictions"][0]
    assert {"score", "flagged", "threshold", "sentences", "text"} <= set(p)
    assert [(s["start"], s["end"]) for s in p["sentences"]] == [(0, 19), (20, 27)]
    many = client.post("/v1/score", json={"texts": ["a b c d", "Zinc cures colds."], "threshold": 0}).json()
    assert [q["flagged"] for q in many["predictions"]] == [True, True]


def test_threshold_name_is_applied(client, clf):
    p = client.post("/v1/score", json={"text": "Zinc cures colds.", "threshold": "high_recall"}).json()
    assert p["predictions"][0]["threshold"] == pytest.approx(clf.calibration.thresholds["high_recall"].threshold)
    bad = client.post("/v1/score", json={"text": "Zinc cures colds.", "threshold": "loose"})
    assert bad.status_code == 422 and "unknown threshold" in bad.json()["detail"]


def test_validation_errors_are_4xx_with_a_message(client):
    assert client.post("/v1/score", json={}).status_code == 422
    both = client.post("/v1/score", json={"text": "a", "texts": ["b"]})
    assert both.status_code == 422 and "exactly one" in both.json()["detail"]
    empty = client.post("/v1/score", json={"text": "   "})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    assert client.post("/v1/score", json={"texts": ["x"] * 5}).status_code == 413
    assert client.post("/v1/score", json={"text": "x" * 501}).status_code == 413


def test_malformed_json_is_422(client):
    r = client.post("/v1/score", content=b'{"text": ', headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_oversize_body_is_413(client):
    r = client.post("/v1/score", content=b'{"text": "' + b"a" * 30_000 + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_oversize_body_without_content_length_is_413(client):
    def chunks():
        for _ in range(30):
            yield b"a" * 1000

    r = client.post("/v1/score", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_api_key_is_required_when_configured(clf, monkeypatch):
    monkeypatch.setenv("OVERCLAIM_API_KEY", "s3cret")
    with TestClient(create_app(clf)) as c:
        assert c.post("/v1/score", json={"text": "Zinc cures colds."}).status_code == 401
        assert c.post("/v1/score", json={"text": "Zinc cures colds."},
                      headers={"X-API-Key": "wrong"}).status_code == 401
        assert c.post("/v1/score", json={"text": "Zinc cures colds."},
                      headers={"X-API-Key": "s3cret"}).status_code == 200
        assert c.get("/healthz").status_code == 200


def test_model_info_and_page(client):
    info = client.get("/v1/model").json()
    assert set(info["thresholds"]) == {"high_precision", "balanced", "high_recall"}
    assert "train_size" in info["card"]
    page = client.get("/")
    assert page.status_code == 200 and "<title>overclaim review</title>" in page.text
    assert client.get("/openapi.json").json()["paths"]["/v1/score"]


def test_csv_upload_is_scored_and_sorted_with_bad_rows_listed(client):
    body = "id,text\n1,Zinc cures colds.\n2,\n3,The clinic opens at nine.\n"
    r = client.post("/v1/score/csv?threshold=balanced", content=body, headers={"content-type": "text/csv"}).json()
    assert sorted(row["id"] for row in r["rows"]) == ["1", "3"]
    assert [row["score"] for row in r["rows"]] == sorted((row["score"] for row in r["rows"]), reverse=True)
    assert r["errors"] == [{"line": 3, "error": "empty 'text'"}]
    missing = client.post("/v1/score/csv?text_column=body", content=body, headers={"content-type": "text/csv"})
    assert missing.status_code == 422 and "no column 'body'" in missing.json()["detail"]


def test_no_endpoint_takes_a_server_path(client):
    """Nothing the client sends is used as a file name: every route and parameter is listed here."""
    spec = client.get("/openapi.json").json()
    params = {p["name"] for path in spec["paths"].values() for op in path.values() for p in op.get("parameters", [])}
    assert params == {"text_column", "id_column", "threshold"}
    assert set(spec["paths"]) == {"/v1/score", "/v1/score/csv", "/v1/model", "/healthz"}
    r = client.post("/v1/score/csv?text_column=../../etc/passwd", content="id,text\n1,a b c\n",
                    headers={"content-type": "text/csv"})
    assert r.status_code == 422


def test_concurrent_requests_are_batched_and_all_answered(client):
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Post {i}: turmeric cures arthritis." for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: client.post("/v1/score", json={"text": t}), texts))
    assert all(r.status_code == 200 for r in results)
    assert [r.json()["predictions"][0]["text"] for r in results] == texts
