"""Models: the Model protocol, LightGBM (default), torch nets, calibration and artifacts.

Importing this package never imports torch (the nets import it lazily when built).
"""

from core.ml.base import MODEL_KINDS, SEQUENCE_KINDS, ClassMap, FitInfo, Model
from core.ml.calibration import Calibrator, expected_calibration_error
from core.ml.registry import load_model, make_model

__all__ = ["MODEL_KINDS", "SEQUENCE_KINDS", "Calibrator", "ClassMap", "FitInfo", "Model",
           "expected_calibration_error", "load_model", "make_model"]
