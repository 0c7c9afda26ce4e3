import shutil

import numpy as np
import pytest

from overclaim import Classifier

pytest.importorskip("onnxruntime")


RECHECK_TEXTS = ["Sea moss cures thyroid disease. Stop your pills.", "The clinic opens at nine.",
                 "Kratom is a safe alternative to methadone.", "Vaccines cause autism.",
                 "Naloxone reverses opioid overdoses."]


@pytest.fixture(scope="module")
def exported(trained_tiny, tmp_path_factory):
    from overclaim.export import export_onnx

    folder = tmp_path_factory.mktemp("onnx") / "model"
    shutil.copytree(trained_tiny, folder)
    paths = export_onnx(folder, recheck_texts=RECHECK_TEXTS)
    assert paths["fp32"].is_file() and paths["int8"].is_file() and paths["recheck"].is_file()
    return folder


def test_onnx_backend_matches_torch(exported):
    texts = ["Sea moss cures thyroid disease. Stop your pills.", "The clinic opens at nine.",
             "A much longer post. " * 30]
    torch_clf = Classifier.load(exported, backend="torch")
    onnx_clf = Classifier.load(exported, backend="onnx")
    a, b = torch_clf.predict(texts), onnx_clf.predict(texts)
    assert type(onnx_clf.backend).__name__ == "OnnxBackend"
    # int8 weights move scores a little, never the structure of the result
    assert np.allclose([p.score for p in a], [p.score for p in b], atol=0.05)
    assert [[(s.start, s.end) for s in p.sentences] for p in a] == [[(s.start, s.end) for s in p.sentences] for p in b]


def test_sentence_head_export_matches_torch_sentence_scores(exported):
    text = "I walk every morning. Sea moss cured my thyroid, so I stopped my pills. The weather was fine."
    torch_clf = Classifier.load(exported, backend="torch")
    onnx_clf = Classifier.load(exported, backend="onnx-fp32")
    assert torch_clf.backend.sentence_head and onnx_clf.backend.sentence_head
    a, b = torch_clf.predict(text), onnx_clf.predict(text)
    assert len(a.sentences) == 3
    assert np.allclose([s.score for s in a.sentences], [s.score for s in b.sentences], atol=1e-4)
    assert np.isclose(a.score, b.score, atol=1e-4)


def test_auto_prefers_an_existing_export(exported, trained_tiny):
    assert type(Classifier.load(exported).backend).__name__ == "OnnxBackend"
    assert type(Classifier.load(trained_tiny).backend).__name__ == "TorchBackend"


def test_onnx_without_export_is_a_clear_error(trained_tiny):
    with pytest.raises(FileNotFoundError, match="overclaim export"):
        Classifier.load(trained_tiny, backend="onnx")


def test_onnx_process_does_not_import_torch(exported):
    """The ONNX backend is the low-memory path: loading it and scoring must not pull in PyTorch."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from overclaim import Classifier\n"
        f"clf = Classifier.load({str(exported)!r}, backend='onnx')\n"
        "clf.predict(['Borax cures arthritis. Take a pinch daily.'])\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_fast_tokenizer_matches_auto_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    from overclaim.predict import load_tokenizer

    texts = ["Kratom is a SAFE alternative!!", "naïve café owners swear by 🍵 green tea", "x" * 300]
    fast, auto = load_tokenizer(str(tiny_model_dir)), AutoTokenizer.from_pretrained(tiny_model_dir)
    assert fast(texts, truncation=True, max_length=64)["input_ids"] == auto(texts, truncation=True,
                                                                             max_length=64)["input_ids"]


def test_int8_scores_near_the_threshold_are_rechecked_with_fp32(exported):
    texts = ["Sea moss cures thyroid disease. Stop your pills.", "The clinic opens at nine.",
             "Kratom is a safe alternative to methadone.", "Does elderberry help with flu?",
             "Vaccines cause autism.", "Naloxone reverses opioid overdoses.", "This album is the cure for a bad week."]
    int8 = Classifier.load(exported, backend="onnx", int8_recheck=0)
    fp32 = Classifier.load(exported, backend="onnx-fp32")
    a, b = [p.score for p in int8.predict(texts)], [p.score for p in fp32.predict(texts)]
    assert int8.backend._exact is None  # the fp32 session is loaded only when a check needs it
    everything = Classifier.load(exported, backend="onnx", int8_recheck=1e6)
    assert [p.score for p in everything.predict(texts)] == pytest.approx(b, abs=1e-6)

    cal = int8.calibration
    distance = [abs(cal.margin(s) - cal.margin(cal.resolve("balanced"))) for s in a]
    band = float(np.median(distance))
    some = Classifier.load(exported, backend="onnx", int8_recheck=band)
    for got, d, i8, f32 in zip([p.score for p in some.predict(texts)], distance, a, b):
        assert got == pytest.approx(f32 if d < band else i8, abs=1e-6)


def test_export_measures_the_recheck_band_and_predict_uses_it(exported):
    import json

    band = json.loads((exported / "onnx" / "recheck.json").read_text())
    int8 = Classifier.load(exported, backend="onnx", int8_recheck=0)
    fp32 = Classifier.load(exported, backend="onnx-fp32")
    cal = int8.calibration
    changes = [abs(cal.margin(a.score) - cal.margin(b.score))
               for a, b in zip(int8.predict(RECHECK_TEXTS), fp32.predict(RECHECK_TEXTS))]
    assert band["texts"] == len(RECHECK_TEXTS) and band["max_margin_change"] == pytest.approx(max(changes), abs=1e-3)
    assert band["band"] >= band["max_margin_change"] and band["band"] * 2 == int(band["band"] * 2)
    assert Classifier.load(exported, backend="onnx").int8_recheck == band["band"]
    assert Classifier.load(exported, backend="onnx", int8_recheck=1.5).int8_recheck == 1.5
