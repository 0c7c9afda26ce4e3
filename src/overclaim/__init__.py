"""overclaim: find unsupported medical-efficacy claims in text."""
__version__ = "0.1.0"

from .calibrate import Calibration, calibrate, choose_thresholds, fit_temperature
from .data import DataError, LabelledData, load_labelled, stratified_split
from .predict import Classifier, ModelLoadError, Prediction, SentenceScore
from .soup import make_soup
from .train import TrainingConfig, train

__all__ = [
    "Calibration", "Classifier", "DataError", "LabelledData", "ModelLoadError", "Prediction",
    "SentenceScore", "TrainingConfig", "calibrate", "choose_thresholds", "fit_temperature",
    "load_labelled", "make_soup", "stratified_split", "train", "__version__",
]
