import shutil

import numpy as np
import pytest

from overclaim import Classifier

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(trained_tiny, tmp_path_factory):
    from overclaim.export import export_onnx

    folder = tmp_path_factory.mktemp("onnx") / "model"
    shutil.copytree(trained_tiny, folder)
    paths = export_onnx(folder)
    assert paths["fp32"].is_file() and paths["int8"].is_file()
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


def test_auto_prefers_an_existing_export(exported, trained_tiny):
    assert type(Classifier.load(exported).backend).__name__ == "OnnxBackend"
    assert type(Classifier.load(trained_tiny).backend).__name__ == "TorchBackend"


def test_onnx_without_export_is_a_clear_error(trained_tiny):
    with pytest.raises(FileNotFoundError, match="overclaim export"):
        Classifier.load(trained_tiny, backend="onnx")
