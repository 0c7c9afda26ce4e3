"""Ray scale-out on a local Ray instance (2 actors), on the tiny model."""
import json

import pytest

ray = pytest.importorskip("ray")

from conftest import write_jsonl  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    # More scheduling slots than actors, so the read task is never starved by the actor pool.
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_screen_matches_local_screen_and_resumes(local_ray, trained_tiny, tmp_path):
    from overclaim import Classifier
    from overclaim.batch import screen
    from overclaim.scale import screen_ray

    rows = [{"id": f"p{i}", "text": f"Post {i}. Zinc cures colds, trust me."} for i in range(60)]
    rows[10] = '{"id": broken'
    src = write_jsonl(tmp_path / "posts.jsonl", rows)
    out = tmp_path / "ray.jsonl"
    report = screen_ray(trained_tiny, src, out, actors=2, backend="torch", progress=False)
    assert (report.scored, report.errors) == (59, 1)
    local = tmp_path / "local.jsonl"
    screen(Classifier.load(trained_tiny, backend="torch"), src, local, progress=False)
    by_line = lambda p: {r["line"]: r for r in map(json.loads, p.read_text().splitlines())}  # noqa: E731
    ray_rows, local_rows = by_line(out), by_line(local)
    assert ray_rows.keys() == local_rows.keys()
    assert all(abs(ray_rows[k]["score"] - local_rows[k]["score"]) < 1e-5 for k in ray_rows)
    # Cut the output back to 20 rows, as if killed; the rerun completes it without duplicates.
    out.write_text("".join(out.read_text().splitlines(True)[:20]))
    again = screen_ray(trained_tiny, src, out, actors=2, backend="torch", progress=False)
    assert again.scored == 39 and again.skipped == 21
    lines = [json.loads(x)["line"] for x in out.read_text().splitlines()]
    assert len(lines) == len(set(lines)) == 59
