"""Features: market events -> the built-in feature catalog, one row per closed 1-minute bar."""
from mia.features.batch import compute_features, feature_frame_from_folder
from mia.features.config import FeatureConfig
from mia.features.engine import FeatureEngine, FeatureFrame

__all__ = ["FeatureConfig", "FeatureEngine", "FeatureFrame", "compute_features", "feature_frame_from_folder"]
