"""Which MatMuls to quantise, and how wide the fp32 recheck band must be: two dynamic-int8 variants of one
model against its fp32 ONNX export.

Measured on the corpus validation split only (the test split and the functional suite decide nothing here):
decisions flipped at the balanced threshold, mean and largest change of score and of margin (logits), how
often the top sentence of a flagged multi-sentence item changes; the recheck band each variant needs (the
largest margin change, rounded up to half a logit: within it ``Classifier.predict`` rescores with fp32, so
no validation decision flips) and the share of validation texts it rescores; and short-post throughput on
the texts of benchmarks/throughput.py with that band (median of three passes).
Variants: "export" is what ``overclaim export`` writes (feed-forward output projections kept in fp32),
"all" quantises every encoder MatMul.  Usage: python benchmarks/quantisation_choice.py [--model PATH]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def all_matmuls_int8(fp32: Path, out: Path) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    head = [n.name for n in graph.node if n.op_type == "MatMul" and "/encoder/" not in n.name
            and "attention" not in n.name]
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=head,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return out


def score(clf, texts):
    preds = clf.predict(texts, batch_size=32)
    return np.array([p.score for p in preds]), [int(np.argmax([s.score for s in p.sentences])) for p in preds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from throughput import texts as benchmark_texts

    from overclaim import Classifier
    from overclaim.corpus import as_labelled, load_corpus
    from overclaim.export import FP32_FILE, INT8_FILE, OnnxBackend, recheck_band
    from overclaim.predict import default_model_path

    model = Path(args.model or default_model_path())
    val = as_labelled(load_corpus(), "validation")
    multi = [i for i, t in enumerate(val.texts) if val.labels[i] == 1 and len(val.claims_of(i) or []) > 0]
    reference = Classifier.load(model, backend="onnx-fp32")
    cal, cut = reference.calibration, reference.calibration.resolve("balanced")
    ref_scores, ref_top = score(reference, val.texts)
    short = [t for t in benchmark_texts(2000)[0] if len(t) <= 240]
    with tempfile.TemporaryDirectory() as tmp:
        # Each variant sits beside the fp32 export under the int8 file name, as an export would.
        (Path(tmp) / FP32_FILE).symlink_to((model / "onnx" / FP32_FILE).resolve())
        variants = {"export": model / "onnx" / INT8_FILE,
                    "all": all_matmuls_int8(model / "onnx" / FP32_FILE, Path(tmp) / INT8_FILE)}
        for name, path in variants.items():
            clf = Classifier.load(model, backend="onnx-fp32", int8_recheck=0)
            clf.backend = OnnxBackend(path, reference.backend.positive_index)
            scores, top = score(clf, val.texts)
            margin_change = np.abs([cal.margin(a) - cal.margin(b) for a, b in zip(scores, ref_scores)])
            band = recheck_band(float(margin_change.max()))
            near = np.abs([cal.margin(a) - cal.margin(cut) for a in scores]) < band
            clf.int8_recheck = band
            clf.predict(short[:64])
            rates = []
            for _ in range(3):  # one pass moves by 20% on a shared 2-core machine; report the median of three
                started = time.perf_counter()
                clf.predict(short, batch_size=32)
                rates.append(len(short) / (time.perf_counter() - started))
            change = np.abs(scores - ref_scores)
            print(json.dumps({
                "variant": name, "validation_texts": len(val),
                "flipped_at_balanced": int(((scores >= cut) != (ref_scores >= cut)).sum()),
                "mean_score_change": round(float(change.mean()), 4), "max_score_change": round(float(change.max()), 4),
                "max_margin_change": round(float(margin_change.max()), 3), "recheck_band": band,
                "rechecked_share": round(float(near.mean()), 4),
                "top_sentence_changed": sum(top[i] != ref_top[i] for i in multi), "flagged_multi_sentence": len(multi),
                "short_posts_per_s_with_recheck": round(float(np.median(rates)), 1),
                "size_mb": round(path.stat().st_size / 2**20, 1)}))


if __name__ == "__main__":
    main()
