"""A few checks of the shipped default model on clear cases (small: it loads the real model once)."""
import pytest

from conftest import SHIPPED

pytestmark = pytest.mark.skipif(not (SHIPPED / "model.safetensors").exists(), reason="shipped model not built")


@pytest.fixture(scope="module")
def clf():
    from overclaim import Classifier

    return Classifier.load(backend="torch")


def test_loads_from_the_default_location(clf):
    assert clf.name.endswith("overclaim-minilm")
    assert clf.calibration.fitted_on.startswith(tuple("0123456789"))


@pytest.mark.parametrize("text", [
    "Kratom is a safe and effective alternative to methadone for opioid withdrawal - 100% natural, no side effects.",
    "This detox tea removes all toxins from your liver in just three days!",
    "Ivermectin prevents COVID-19, take it every week and skip the vaccine.",
])
def test_flags_clear_unsupported_claims(clf, text):
    assert clf.predict(text).flagged


@pytest.mark.parametrize("text", [
    "Methadone and buprenorphine lower the risk of dying from an overdose.",
    "Naloxone reverses opioid overdoses.",
    "My pharmacy is closed on Sunday, so I picked up my prescription on Saturday.",
])
def test_does_not_flag_evidence_or_ordinary_talk(clf, text):
    assert not clf.predict(text).flagged


def test_highlights_the_claim_sentence(clf):
    text = ("I've been reading a lot about gut health lately. My neighbour sells these capsules at the market. "
            "She swears they reverse type 2 diabetes in a month, so you can throw away your metformin.")
    p = clf.predict(text)
    top = max(p.sentences, key=lambda s: s.score)
    assert top.text.startswith("She swears")


def test_transformers_pipeline_loads_it():
    from transformers import pipeline

    out = pipeline("text-classification", model=str(SHIPPED))(
        "Colloidal silver cures every infection, no antibiotics needed.")
    assert out[0]["label"] == "unsupported_claim"
