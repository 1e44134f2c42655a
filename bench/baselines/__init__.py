"""Baselines the benchmarks measure mia against (not part of the installed package)."""
