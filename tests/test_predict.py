import shutil

import pytest

from overclaim import Classifier, ModelLoadError, Prediction


@pytest.fixture(scope="module")
def clf(trained_tiny):
    return Classifier.load(trained_tiny, backend="torch")


def test_string_in_one_prediction_out(clf):
    text = "Kratom is a safe alternative. It has no side effects!"
    p = clf.predict(text)
    assert isinstance(p, Prediction) and 0.0 <= p.score <= 1.0
    assert p.flagged == (p.score >= p.threshold)
    assert [(s.text, s.start, s.end) for s in p.sentences] == [
        ("Kratom is a safe alternative.", 0, 29), ("It has no side effects!", 30, 53)]
    for s in p.sentences:
        assert text[s.start:s.end] == s.text and 0 <= s.score <= 1


def test_list_in_list_out_in_order(clf):
    texts = ["Naloxone reverses overdoses.", "Detox tea removes all toxins.", "x y z w"]
    out = clf.predict(texts)
    assert [p.text for p in out] == texts
    assert [p.score for p in out] == pytest.approx([clf.predict(t).score for t in texts], abs=1e-5)


def test_thresholds_by_name_or_number(clf):
    p = clf.predict("Garlic cures colds.", threshold="high_recall")
    assert p.threshold == clf.calibration.thresholds["high_recall"].threshold
    assert clf.predict("Garlic cures colds.", threshold=0.0).flagged
    with pytest.raises(ValueError, match="unknown threshold"):
        clf.predict("Garlic cures colds.", threshold="strictest")


@pytest.mark.parametrize("bad", ["", "   \n\t "])
def test_empty_and_whitespace_are_clear_errors(clf, bad):
    with pytest.raises(ValueError, match="empty or whitespace"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="text 1 is empty"):
        clf.predict(["fine text", bad])


def test_non_string_is_a_type_error(clf):
    with pytest.raises(TypeError, match="expected str"):
        clf.predict([None])


def test_one_megabyte_text_is_scored_whole(clf):
    sentence = "Sea moss cures thyroid disease and you can stop your levothyroxine. "
    text = sentence * (1_000_000 // len(sentence))
    p = clf.predict(text, batch_size=128)
    assert len(p.sentences) == text.count("levothyroxine.")
    assert p.sentences[-1].end == len(text.rstrip())


def test_missing_weights_are_named(trained_tiny, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(trained_tiny, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="missing model.safetensors"):
        Classifier.load(broken)


def test_missing_config_is_named(trained_tiny, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(trained_tiny, broken)
    (broken / "config.json").unlink()
    with pytest.raises(ModelLoadError, match="missing config.json"):
        Classifier.load(broken)


def test_missing_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        Classifier.load(tmp_path / "nowhere")


def test_folder_without_thresholds_still_loads_uncalibrated(tiny_model_dir):
    clf = Classifier.load(tiny_model_dir, backend="torch")
    assert clf.calibration.temperature == 1.0
    assert clf.predict("Some text here.").threshold == 0.5


def test_plain_transformers_pipeline_loads_the_folder(trained_tiny):
    from transformers import pipeline

    out = pipeline("text-classification", model=str(trained_tiny))("Garlic cures colds.")
    assert out[0]["label"] in {"no_claim", "unsupported_claim"}


def test_gpu_device_with_an_onnx_backend_is_refused(tiny_model_dir):
    with pytest.raises(ValueError, match="ONNX backends run on the CPU"):
        Classifier.load(tiny_model_dir, backend="onnx", device="cuda")
