"""Instrument facts (tick size, tick value) read from config/instruments.yaml."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from mia import HOME
from mia.errors import MiaError

INSTRUMENTS_PATH = HOME / "config" / "instruments.yaml"


@dataclass(frozen=True)
class Instrument:
    symbol: str
    tick_size: float
    tick_value: float
    description: str = ""

    @property
    def point_value(self) -> float:
        return self.tick_value / self.tick_size


@functools.lru_cache(maxsize=4)
def load_instruments(path: Path = INSTRUMENTS_PATH) -> dict[str, Instrument]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise MiaError(f"{path}: error: cannot read instruments: {exc}") from None
    out = {}
    for sym, spec in (data or {}).items():
        if isinstance(spec, dict) and "tick_size" in spec:
            out[sym] = Instrument(sym, float(spec["tick_size"]), float(spec["tick_value"]),
                                  str(spec.get("description", "")))
    return out


def instrument(symbol: str) -> Instrument:
    table = load_instruments()
    if symbol not in table:
        raise MiaError(f"unknown instrument '{symbol}' (known: {', '.join(sorted(table))})")
    return table[symbol]
