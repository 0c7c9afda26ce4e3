"""ONNX export with dynamic int8 quantisation, and the ONNX Runtime backend.

The export lives in ``onnx/`` inside the model folder: ``model.onnx`` (fp32) and ``model.int8.onnx``.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

from .backends import logit_margin
from .sentence_head import has_sentence_head

log = logging.getLogger(__name__)

ONNX_DIR = "onnx"
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
RECHECK_FILE = "recheck.json"  # the int8 export's measured recheck band, beside it
INSTALL_HINT = "ONNX Runtime is not installed: pip install 'overclaim[onnx]'"


class OnnxBackend:
    def __init__(self, path: Path, positive_index: int, threads: int | None = None, arena: bool = True):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # The arena keeps a session's largest activations allocated for reuse: right for the main session,
        # wasted memory for the fp32 session that rechecks a few texts.
        options.enable_cpu_mem_arena = arena
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.positive_index = positive_index
        self.path = path
        self.threads = threads
        self._exact: OnnxBackend | None = None
        # An export of a model with the in-pass sentence head takes span weights and returns span logits.
        self.sentence_head = "span_weights" in self.input_names
        band = path.with_name(RECHECK_FILE)
        self.recheck_band = (json.loads(band.read_text())["band"]
                             if path.name == INT8_FILE and band.is_file() else None)

    def exact(self) -> "OnnxBackend | None":
        """The fp32 export beside this int8 one, loaded on first use; None for an fp32 export or without one.
        ``Classifier.predict`` rescores with it the texts whose int8 score lies near the threshold."""
        fp32 = self.path.with_name(FP32_FILE)
        if self.path.name != INT8_FILE or not fp32.is_file():
            return None
        if self._exact is None:
            self._exact = OnnxBackend(fp32, self.positive_index, self.threads, arena=False)
        return self._exact

    def margins(self, encoded: dict) -> np.ndarray:
        return self._margins(self.session.run(["logits"], self._feed(encoded))[0])

    def span_margins(self, encoded: dict, span_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input margins [batch] and span margins [batch, spans] from one run of the exported graph."""
        feed = self._feed(encoded)
        feed["span_weights"] = np.asarray(span_weights, dtype=np.float32)
        logits, spans = self.session.run(["logits", "span_logits"], feed)
        return self._margins(logits), self._margins(spans)

    def _feed(self, encoded: dict) -> dict:
        feed = {k: np.asarray(v, dtype=np.int64) for k, v in encoded.items() if k in self.input_names}
        if "token_type_ids" in self.input_names and "token_type_ids" not in feed:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        if "span_weights" in self.input_names and "span_weights" not in feed:
            # The graph always takes span weights; one empty span costs nothing measurable.
            feed["span_weights"] = np.zeros((feed["input_ids"].shape[0], 1, feed["input_ids"].shape[1]),
                                            dtype=np.float32)
        return feed

    def _margins(self, logits: np.ndarray) -> np.ndarray:
        logits = logits.astype(np.float32)
        negative = 1 - self.positive_index if logits.shape[-1] == 2 else None
        return logit_margin(logits, self.positive_index, negative)


def export_onnx(model_dir: str | Path, quantize: bool = True, opset: int = 17,
                recheck_texts: list[str] | None = None) -> dict[str, Path]:
    """Write ``onnx/model.onnx`` and (by default) ``onnx/model.int8.onnx`` into a model folder, and the int8
    recheck band measured on ``recheck_texts`` (default: the corpus validation split) in ``onnx/recheck.json``."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    _require_onnxruntime()
    model_dir = Path(model_dir)
    out = model_dir / ONNX_DIR
    out.mkdir(exist_ok=True)
    # Eager attention exports the plain MatMul/Softmax pattern that ONNX Runtime fuses into its Attention
    # kernel; the SDPA export adds NaN guards the fusion does not recognise, leaving attention unfused.
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sample = tokenizer(["an example post", "a second, longer example post for tracing"],
                       padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch"}
    args = tuple(sample[n] for n in names)
    outputs = ["logits"]
    module = model
    if has_sentence_head(model.config):
        module = _sentence_head_module(model, names)
        names, outputs = names + ["span_weights"], outputs + ["span_logits"]
        args = args + (torch.full((2, 2, sample["input_ids"].shape[1]), 0.25),)
        axes["span_weights"] = {0: "batch", 1: "spans", 2: "sequence"}
        axes["span_logits"] = {0: "batch", 1: "spans"}
    fp32 = out / FP32_FILE
    # The TorchScript exporter needs no extra packages and handles BERT-family encoders well.
    torch.onnx.export(module, args, str(fp32), input_names=names, output_names=outputs, dynamic_axes=axes,
                      opset_version=opset, dynamo=False)
    _fuse_transformer_ops(fp32, model.config)
    paths = {"fp32": fp32}
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        int8 = out / INT8_FILE
        import onnx

        # What is quantised was chosen on the corpus validation split (flipped decisions and mean score
        # change against fp32): per-channel weights with reduced range (per-tensor flipped more); embeddings
        # left in fp32; and the feed-forward output projections left in fp32, since their input (after
        # GELU) has outliers that one dynamic int8 scale per batch represents badly.
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                         op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=_fp32_nodes(fp32),
                         # The fused graph uses ONNX Runtime's own operators, which shape inference cannot type.
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        paths["int8"] = int8
        texts = recheck_texts if recheck_texts is not None else _validation_texts()
        if texts:
            source = "corpus:validation" if recheck_texts is None else f"{len(texts)} texts given to export_onnx"
            paths["recheck"] = measure_recheck_band(model_dir, texts, source)
    return paths


def measure_recheck_band(model_dir: Path, texts: list[str], source: str) -> Path:
    """Score texts with the int8 and fp32 exports and store the largest margin change, rounded up to half a
    logit: ``Classifier.predict`` rescores with fp32 the texts whose int8 margin lies that near the threshold,
    so on these texts int8 changes no decision."""
    from .predict import Classifier
    from .scoring import score_documents

    folder = Path(model_dir) / ONNX_DIR
    # Scored as predict scores them (same tokenizer, window length and positive class), int8 without the check.
    runs = [Classifier.load(model_dir, backend="onnx", int8_recheck=0), Classifier.load(model_dir, backend="onnx-fp32")]
    margins = [[d.margin for d in score_documents(texts, c.tokenizer, c.backend, c.max_length)] for c in runs]
    largest = max(abs(a - b) for a, b in zip(*margins))
    record = {"band": recheck_band(largest), "max_margin_change": round(largest, 4),
              "texts": len(texts), "measured_on": source}
    path = folder / RECHECK_FILE
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def recheck_band(largest_change: float) -> float:
    """The recheck band for a largest measured int8 margin change: that change rounded up to half a logit
    (strictly above it, so the text that moved most lies inside the band)."""
    return math.ceil(2 * largest_change + 1e-9) / 2


def _validation_texts() -> list[str]:
    from .corpus import CORPUS_FILE

    if not Path(CORPUS_FILE).is_file():  # an installed package without the repository's data
        return []
    from .sources import load_source

    return load_source("corpus:validation").texts


def _sentence_head_module(model, names: list[str]):
    import torch

    from . import sentence_head

    class WithSentenceHead(torch.nn.Module):
        """The classifier with span weights as a last input and span logits as a second output."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *args):
            inputs = dict(zip(names + ["span_weights"], args))
            return sentence_head.forward(self.model, inputs["input_ids"], inputs["attention_mask"],
                                         inputs.get("token_type_ids"), inputs["span_weights"])

    return WithSentenceHead().eval()


def _fp32_nodes(path: Path) -> list[str]:
    """MatMuls kept in fp32: the feed-forward output projections (BERT/RoBERTa ``output/dense``, DistilBERT
    ``ffn/lin2``) and everything after the encoder (the sentence head's pooling and its small projections,
    whose inputs are averages that one dynamic int8 scale would blur)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type == "MatMul" and "attention" not in n.name
            and (n.name.endswith("output/dense/MatMul") or n.name.endswith("ffn/lin2/MatMul")
                 or "/encoder/" not in n.name and "/transformer/" not in n.name)]


def _fuse_transformer_ops(path: Path, config) -> None:
    """Fuse attention, layer norm and GELU into ONNX Runtime's BERT kernels (a large CPU speed-up);
    models the optimiser does not know are left as exported."""
    if config.model_type not in ("bert", "roberta", "distilbert", "xlm-roberta", "electra"):
        return
    from onnxruntime.transformers import optimizer

    model_type = "bert" if config.model_type in ("roberta", "xlm-roberta", "electra") else config.model_type
    fused = optimizer.optimize_model(str(path), model_type=model_type, num_heads=config.num_attention_heads,
                                     hidden_size=config.hidden_size)
    fused.save_model_to_file(str(path))


def onnx_backend(source: str, positive_index: int, required: bool, prefer_int8: bool = True,
                 threads: int | None = None):
    """An ``OnnxBackend`` for an exported model folder; None (or an error when required) otherwise."""
    folder = Path(source) / ONNX_DIR
    candidates = [folder / INT8_FILE, folder / FP32_FILE] if prefer_int8 else [folder / FP32_FILE]
    found = next((p for p in candidates if p.is_file()), None)
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        if required:
            raise ImportError(INSTALL_HINT) from None
        return None
    if found is None:
        if required:
            raise FileNotFoundError(f"{source} has no ONNX export; run: overclaim export {source}")
        return None
    return OnnxBackend(found, positive_index, threads)


def _require_onnxruntime() -> None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
