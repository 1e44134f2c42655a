"""The supervisor's settings: `config/mia.yaml`, checked like a rule file.

Read with the rules' loader (every key keeps its place: errors are `path:line:col: error: ...`
with the line and a caret) and validated by ``config.schema.json``; every section is optional
and has the defaults below. Relative paths are taken from the current folder. Without a config
file, ``Config()`` is the defaults: observe mode over the bundled simulated session. The
`telegram:`, `voice:` and `alerts:` sections are their front ends' to check.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jsonschema

from mia.dsl.errors import Pos, Reporter
from mia.dsl.load import Document, load_document
from mia.dsl.schema import validate_document
from mia.market.sctime import DEFAULT_ZONES, zone_error

MODES = ("observe", "paper", "live")


@dataclass(frozen=True)
class FeedConfig:
    kind: str = "replay"              # replay | sierra (live tail) | sim | ibkr
    path: str | None = None           # replay / sierra: day folders; None: the bundled session
    speed: float = 0.0                # replay: 1 = market pace, 0 = as fast as possible
    zones: dict | None = None         # event type -> the zone of its `t` (None: DEFAULT_ZONES)
    stale_after_s: float = 30.0       # live: no event this long inside trading hours halts entries
    max_skew_s: float = 10.0          # live: feed time this far from the wall clock is an alert
    poll_s: float = 0.25              # sierra: how often the files are polled


@dataclass(frozen=True)
class BrokerConfig:
    kind: str = "paper"
    slippage_ticks: float = 1.0
    commission_usd: float = 2.25


@dataclass(frozen=True)
class Config:
    path: str | None = None           # the file read (None: defaults)
    rules: str | None = None          # None: rules/ of the current folder, else the bundled rules
    instrument: str | None = None     # None: the rules' instrument
    mode: str = "observe"
    feed: FeedConfig = field(default_factory=FeedConfig)
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    journal: str = "runs/journal.sqlite"
    control_socket: str = "runs/mia.sock"
    out: str = "runs/latest"
    cancel_on_exit: bool = False
    alerts: dict = field(default_factory=dict)
    telegram: dict = field(default_factory=dict)
    voice: dict = field(default_factory=dict)
    #: the document read (positions of keys, for the front ends' own errors)
    doc: Document | None = field(default=None, compare=False, repr=False)


@functools.lru_cache(maxsize=1)
def config_schema() -> dict:
    return json.loads(resources.files("mia.runtime").joinpath("config.schema.json").read_text())


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(config_schema())


def load_config(path: str | Path) -> Config:
    """``path`` read and checked; a ``RuleError`` listing every problem (positioned) otherwise."""
    rep = Reporter()
    path = Path(path)
    doc = load_document(path, rep)
    if doc is None:
        rep.raise_if_any()
    data = doc.data
    if data is None:
        data = doc.data = {}
    if not isinstance(data, dict):
        rep.error(doc.value_pos(()), f"a config file is a mapping of sections, got {type(data).__name__}")
        rep.raise_if_any()
    validate_document(doc, rep, _validator())
    rep.raise_if_any()
    feed = data.get("feed", {})
    zones = feed.get("zones")
    if zones is not None:
        for typ, zone in zones.items():
            problem = zone_error(typ, zone)
            if problem:
                rep.error(doc.key_pos(("feed", "zones", typ)) if problem.startswith("unknown event")
                          else doc.value_pos(("feed", "zones", typ)), f"feed.zones: {problem}")
        zones = {**DEFAULT_ZONES, **zones}
    kind = feed.get("kind", "replay")
    if kind == "sierra" and "path" not in feed:
        rep.error(doc.key_pos(("feed", "kind")), "feed.kind sierra needs feed.path (the dumpers' folder)")
    rep.raise_if_any()
    broker = data.get("broker", {})
    return Config(
        path=str(path), rules=data.get("rules"), instrument=data.get("instrument"), mode=data.get("mode", "observe"),
        feed=FeedConfig(kind=kind, path=feed.get("path"), speed=float(feed.get("speed", 0.0)), zones=zones,
                        stale_after_s=float(feed.get("stale_after_s", 30.0)),
                        max_skew_s=float(feed.get("max_skew_s", 10.0)), poll_s=float(feed.get("poll_s", 0.25))),
        broker=BrokerConfig(kind=broker.get("kind", "paper"), slippage_ticks=float(broker.get("slippage_ticks", 1.0)),
                            commission_usd=float(broker.get("commission_usd", 2.25))),
        journal=data.get("journal", "runs/journal.sqlite"),
        control_socket=data.get("control", {}).get("socket", "runs/mia.sock"),
        out=data.get("out", "runs/latest"), cancel_on_exit=bool(data.get("cancel_on_exit", False)),
        alerts=data.get("alerts", {}), telegram=data.get("telegram", {}), voice=data.get("voice", {}), doc=doc)


def config_pos(cfg: Config, *path) -> Pos | None:
    """Where ``path`` (e.g. "feed", "kind") is set in the config file, if it is."""
    if cfg.doc is None:
        return None
    return cfg.doc.key_pos(tuple(path))
