"""Load a classifier once and score texts, whole and sentence by sentence."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence, overload

from .calibrate import Calibration, THRESHOLDS_FILE
from .scoring import score_documents

log = logging.getLogger(__name__)

POSITIVE_LABEL = "unsupported_claim"
NEGATIVE_LABEL = "no_claim"
DEFAULT_MODEL_NAME = "overclaim-minilm"
REQUIRED_FILES = ("config.json",)
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json")
# Margin band (logits) around the threshold within which an int8 score is checked against the fp32 export,
# for an export without its own measured band (onnx/recheck.json, written by `overclaim export`): the band
# measured for the shipped model (largest int8 change on validation 2.98, rounded up to half a logit).
INT8_RECHECK = 3.0


class ModelLoadError(RuntimeError):
    """A model folder or hub id that cannot be loaded, with the reason."""


@dataclass(frozen=True)
class SentenceScore:
    text: str
    start: int
    end: int
    score: float


@dataclass
class Prediction:
    text: str
    score: float
    flagged: bool
    threshold: float
    sentences: list[SentenceScore] = field(default_factory=list)

    @property
    def flagged_sentences(self) -> list[SentenceScore]:
        """Sentences at or above the threshold, when the text as a whole is flagged."""
        if not self.flagged:
            return []
        hits = [s for s in self.sentences if s.score >= self.threshold]
        # A text can be flagged by context while no sentence alone crosses the line: show the strongest.
        return hits or sorted(self.sentences, key=lambda s: -s.score)[:1]

    def to_dict(self) -> dict:
        return {
            "score": round(self.score, 6),
            "flagged": self.flagged,
            "threshold": self.threshold,
            "sentences": [
                {"text": s.text, "start": s.start, "end": s.end, "score": round(s.score, 6)}
                for s in self.sentences
            ],
        }


def default_model_path() -> Path:
    """The shipped model: ``$OVERCLAIM_MODEL`` or ``models/overclaim-minilm`` in the source tree."""
    if os.environ.get("OVERCLAIM_MODEL"):
        return Path(os.environ["OVERCLAIM_MODEL"])
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


class Classifier:
    """A loaded model with its tokenizer and calibration. Load once, call ``predict`` many times."""

    def __init__(self, tokenizer, backend, calibration: Calibration, max_length: int, name: str,
                 int8_recheck: float = 0.0):
        self.tokenizer = tokenizer
        self.backend = backend
        self.calibration = calibration
        self.max_length = max_length
        self.name = name
        self.int8_recheck = int8_recheck

    @classmethod
    def load(cls, path_or_id: str | os.PathLike | None = None, *, backend: str = "auto",
             max_length: int | None = None, positive_label: str | None = None,
             threads: int | None = None, device: str | None = None,
             int8_recheck: float | None = None) -> "Classifier":
        """Load the shipped model, a local model folder, or a Hugging Face hub id.

        ``backend`` is ``"torch"``, ``"onnx"`` (int8 when exported, else fp32), ``"onnx-fp32"`` or
        ``"auto"`` (ONNX when installed and exported, else torch);
        ``threads`` caps the CPU threads the model computes with (default: the runtime's own choice);
        ``device`` (``"cuda"``, ``"cuda:1"``, ...) runs the torch backend on a GPU;
        ``int8_recheck``: texts whose int8 score lies within this many logits of the threshold are scored
        again with the fp32 export, so int8 rarely changes a decision (0 turns the check off; default: the
        band measured at export, in ``onnx/recheck.json``, else ``INT8_RECHECK``).
        """
        source = str(path_or_id) if path_or_id is not None else str(default_model_path())
        local = Path(source)
        if local.exists() or path_or_id is None or source.startswith((".", "/", "~")):
            _check_folder(local)
            calibration = Calibration.load(local) if (local / THRESHOLDS_FILE).exists() else None
            config = json.loads((local / "config.json").read_text())
        else:
            calibration, config = _hub_extras(source)
        if calibration is None:
            log.warning("%s has no %s: scores are uncalibrated and every preset threshold is 0.5",
                        source, THRESHOLDS_FILE)
            calibration = Calibration()
        positive = _positive_index(config, positive_label, source)
        tokenizer = load_tokenizer(source)
        limit = min(max_length or 512, config.get("max_position_embeddings", 512),
                    getattr(tokenizer, "model_max_length", 512) or 512)
        from transformers.utils import logging as hf_logging

        from .backends import resolve_backend

        shown = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # loading is quick; its bars would clutter every CLI call
        try:
            runtime = resolve_backend(source, backend, positive, threads, device)
        finally:
            if shown:
                hf_logging.enable_progress_bar()
        if int8_recheck is None:
            int8_recheck = getattr(runtime, "recheck_band", None) or INT8_RECHECK
        return cls(tokenizer, runtime, calibration, limit, name=source, int8_recheck=int8_recheck)

    @overload
    def predict(self, texts: str, *, threshold: str | float | None = None,
                batch_size: int = 32) -> Prediction: ...

    @overload
    def predict(self, texts: Sequence[str], *, threshold: str | float | None = None,
                batch_size: int = 32) -> list[Prediction]: ...

    def predict(self, texts, *, threshold=None, batch_size=32, progress=None):
        """Score one text (returns a ``Prediction``) or a list of texts (returns a list).

        ``threshold`` is a preset (``"high_precision"``, ``"balanced"``, ``"high_recall"``) or a number.
        """
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        _validate(batch)
        cut = self.calibration.resolve(threshold)
        scored = score_documents(batch, self.tokenizer, self.backend, self.max_length, batch_size, progress)
        self._recheck_near(cut, batch, scored, batch_size)
        results = []
        for text, doc in zip(batch, scored):
            score = float(self.calibration.probability(doc.margin))
            sentences = [
                SentenceScore(text[s.start:s.end], s.start, s.end, float(self.calibration.probability(m)))
                for s, m in doc.sentences
            ]
            results.append(Prediction(text, score, score >= cut, cut, sentences))
        return results[0] if single else results

    def _recheck_near(self, cut: float, batch: list[str], scored: list, batch_size: int) -> None:
        """Rescore with the fp32 export the texts whose int8 margin lies near the threshold's: int8 moves a
        few texts by several logits, and only near the threshold does that change a decision."""
        exact = self.backend.exact() if self.int8_recheck > 0 and hasattr(self.backend, "exact") else None
        if exact is None:
            return
        centre = self.calibration.margin(cut)
        near = [i for i, doc in enumerate(scored) if abs(doc.margin - centre) < self.int8_recheck]
        if near:
            again = score_documents([batch[i] for i in near], self.tokenizer, exact, self.max_length, batch_size)
            for i, doc in zip(near, again):
                scored[i] = doc

    def predict_proba(self, texts: Iterable[str], batch_size: int = 32):
        """Calibrated scores only, as a NumPy array (for metrics and benchmarks)."""
        import numpy as np

        return np.array([p.score for p in self.predict(list(texts), batch_size=batch_size)])

    def __repr__(self) -> str:
        return f"Classifier({self.name!r}, backend={type(self.backend).__name__})"


def load_tokenizer(source: str):
    """The model's tokenizer. A folder with ``tokenizer.json`` is read as a fast tokenizer directly:
    ``AutoTokenizer`` would import PyTorch, a few hundred MB an ONNX process does not need."""
    try:
        if (Path(source) / "tokenizer.json").is_file():
            from transformers import PreTrainedTokenizerFast

            return PreTrainedTokenizerFast.from_pretrained(source)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(source)
    except Exception as exc:  # transformers raises several types for a broken tokenizer
        raise ModelLoadError(f"{source}: cannot load the tokenizer ({exc})") from exc


def _validate(batch: list) -> None:
    for i, text in enumerate(batch):
        where = "text" if len(batch) == 1 else f"text {i}"
        if not isinstance(text, str):
            raise TypeError(f"{where} is {type(text).__name__}, expected str")
        if not text.strip():
            raise ValueError(f"{where} is empty or whitespace only; nothing to score")


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ModelLoadError(f"model folder {folder} does not exist")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        missing.append("model.safetensors")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        missing.append("tokenizer.json (or vocab.txt)")
    if missing:
        raise ModelLoadError(f"model folder {folder} is missing {', '.join(missing)}")


def _positive_index(config: dict, positive_label: str | None, source: str) -> int:
    label2id = {k: int(v) for k, v in (config.get("label2id") or {}).items()}
    wanted = positive_label or POSITIVE_LABEL
    if wanted in label2id:
        return label2id[wanted]
    if positive_label:
        raise ModelLoadError(f"{source}: label {positive_label!r} not in {sorted(label2id)}")
    if len(label2id) <= 2:
        return 1  # binary heads put the positive class second by convention
    raise ModelLoadError(f"{source} has labels {sorted(label2id)}; pass positive_label= to choose one")


def _hub_extras(repo_id: str):
    """Config and optional thresholds of a hub model (needs network unless cached)."""
    from huggingface_hub import hf_hub_download

    try:
        config = json.loads(Path(hf_hub_download(repo_id, "config.json")).read_text())
    except Exception as exc:
        raise ModelLoadError(f"{repo_id!r} is neither a local folder nor a reachable hub model ({exc})") from exc
    try:
        return Calibration.load(Path(hf_hub_download(repo_id, THRESHOLDS_FILE)).parent), config
    except Exception:
        return None, config
