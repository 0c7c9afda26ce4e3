"""Model runtimes behind the shared scoring path: PyTorch here, ONNX Runtime in ``export``."""
from __future__ import annotations

import numpy as np
import torch


class TorchBackend:
    def __init__(self, model, positive_index: int):
        self.model = model.eval()
        self.positive_index = positive_index
        self.negative_index = 1 - positive_index if model.config.num_labels == 2 else None

    @torch.inference_mode()
    def margins(self, encoded: dict) -> np.ndarray:
        inputs = {k: torch.as_tensor(v) for k, v in encoded.items() if k in _MODEL_INPUTS}
        logits = self.model(**inputs).logits.float()
        return logit_margin(logits.numpy(), self.positive_index, self.negative_index)


_MODEL_INPUTS = {"input_ids", "attention_mask", "token_type_ids"}


def logit_margin(logits: np.ndarray, positive: int, negative: int | None) -> np.ndarray:
    """Positive-class log-odds: logit difference for two classes, one-vs-rest log-odds otherwise."""
    if logits.shape[1] == 1:
        return logits[:, 0]
    if negative is not None:
        return logits[:, positive] - logits[:, negative]
    others = np.delete(logits, positive, axis=1)
    return logits[:, positive] - np.log(np.exp(others).sum(axis=1))


def load_torch_model(source: str):
    from transformers import AutoModelForSequenceClassification

    try:
        # fp16 weights are stored to keep the folder small; CPUs compute fastest and exactly in fp32.
        return AutoModelForSequenceClassification.from_pretrained(source, dtype=torch.float32)
    except Exception as exc:
        from .predict import ModelLoadError

        raise ModelLoadError(f"{source}: cannot load the model weights ({exc})") from exc


def resolve_backend(source: str, backend: str, positive_index: int):
    """Build the runtime named by ``backend`` ("torch", "onnx" or "auto") for a model source."""
    if backend not in ("auto", "torch", "onnx"):
        raise ValueError(f"backend must be 'auto', 'torch' or 'onnx', got {backend!r}")
    if backend in ("auto", "onnx"):
        from . import export

        runtime = export.onnx_backend(source, positive_index, required=backend == "onnx")
        if runtime is not None:
            return runtime
    return TorchBackend(load_torch_model(source), positive_index)
