"""The shipped model against the data issue's targets. Slow (scores ~1,600 texts): run with -m slow."""
import pytest

from conftest import SHIPPED

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (SHIPPED / "model.safetensors").exists(), reason="shipped model not built")]


@pytest.fixture(scope="module")
def result():
    from overclaim import Classifier
    from overclaim.report import evaluate_model

    return evaluate_model(Classifier.load(backend="torch"))


def test_flag_f1_on_unseen_interventions(result):
    assert result["test"]["f1"] >= 0.90


def test_top_sentence_is_a_claim_sentence(result):
    assert result["sentence_level"]["hit_rate"] >= 0.85


@pytest.mark.xfail(reason="not met yet: claims in long texts and double negation (both directions) are below 85% "
                          "(see benchmarks/results/evaluate_shipped.txt)", strict=False)
def test_every_functional_test_passes_85_percent(result):
    low = {k: round(v["pass_rate"], 3) for k, v in result["functional"].items() if v["pass_rate"] < 0.85}
    assert low == {}
