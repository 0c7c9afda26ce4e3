"""Model runtimes behind the shared scoring path: PyTorch here, ONNX Runtime in ``export``.

PyTorch is imported only when a torch model is loaded, so an ONNX process never pays its memory.
"""
from __future__ import annotations

import numpy as np


# "onnx" runs the int8 export when there is one (else fp32); "onnx-fp32" always the fp32 export.
BACKENDS = ("auto", "torch", "onnx", "onnx-fp32")


class TorchBackend:
    def __init__(self, model, positive_index: int):
        from .sentence_head import has_sentence_head

        self.model = model.eval()
        self.positive_index = positive_index
        self.negative_index = 1 - positive_index if model.config.num_labels == 2 else None
        self.sentence_head = has_sentence_head(model.config)

    def margins(self, encoded: dict) -> np.ndarray:
        import torch

        with torch.inference_mode():
            logits = self.model(**self._tensors(encoded)).logits
        return self._margins(logits)

    def span_margins(self, encoded: dict, span_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input margins [batch] and span margins [batch, spans] from one forward pass."""
        import torch

        from . import sentence_head

        with torch.inference_mode():
            inputs = self._tensors(encoded)
            weights = torch.as_tensor(span_weights, device=self.model.device)
            doc, spans = sentence_head.forward(self.model, inputs["input_ids"], inputs["attention_mask"],
                                               inputs.get("token_type_ids"), weights)
        return self._margins(doc), self._margins(spans)

    def _tensors(self, encoded: dict) -> dict:
        import torch

        return {k: torch.as_tensor(v, device=self.model.device) for k, v in encoded.items() if k in _MODEL_INPUTS}

    def _margins(self, logits) -> np.ndarray:
        return logit_margin(logits.float().cpu().numpy(), self.positive_index, self.negative_index)


_MODEL_INPUTS = {"input_ids", "attention_mask", "token_type_ids"}


def logit_margin(logits: np.ndarray, positive: int, negative: int | None) -> np.ndarray:
    """Positive-class log-odds over the last axis (labels): logit difference for two classes, one-vs-rest
    log-odds otherwise. Leading axes are kept: [batch] for documents, [batch, spans] for sentence spans."""
    if logits.shape[-1] == 1:
        return logits[..., 0]
    if negative is not None:
        return logits[..., positive] - logits[..., negative]
    others = np.delete(logits, positive, axis=-1)
    return logits[..., positive] - np.log(np.exp(others).sum(axis=-1))


def load_torch_model(source: str):
    import torch
    from transformers import AutoModelForSequenceClassification

    try:
        # fp16 weights are stored to keep the folder small; CPUs compute fastest and exactly in fp32.
        return AutoModelForSequenceClassification.from_pretrained(source, dtype=torch.float32)
    except Exception as exc:
        from .predict import ModelLoadError

        raise ModelLoadError(f"{source}: cannot load the model weights ({exc})") from exc


def resolve_backend(source: str, backend: str, positive_index: int, threads: int | None = None,
                    device: str | None = None):
    """Build the runtime named by ``backend`` (one of ``BACKENDS``) for a model source.

    ``threads`` caps the compute threads (ONNX Runtime's per session; PyTorch's for the whole process);
    ``device`` other than the CPU needs PyTorch, so "auto" then means torch."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    on_gpu = device not in (None, "cpu")
    if on_gpu and backend.startswith("onnx"):
        raise ValueError(f"device {device!r} needs backend 'torch' or 'auto' (the ONNX backends run on the CPU)")
    if backend != "torch" and not on_gpu:
        from . import export

        runtime = export.onnx_backend(source, positive_index, required=backend != "auto",
                                      prefer_int8=backend != "onnx-fp32", threads=threads)
        if runtime is not None:
            return runtime
    model = load_torch_model(source)
    if on_gpu:
        model = model.to(device)
    if threads:
        import torch

        torch.set_num_threads(threads)
    return TorchBackend(model, positive_index)
