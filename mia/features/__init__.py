"""Features: market events -> the built-in feature catalog, one row per closed 1-minute bar."""
from mia.features.config import FeatureConfig
from mia.features.engine import FeatureEngine, FeatureFrame, compute_features

__all__ = ["FeatureConfig", "FeatureEngine", "FeatureFrame", "compute_features"]
