"""Backtests: the live streaming path (replay -> features -> engine -> paper broker) over past days."""
