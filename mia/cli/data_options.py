"""Options of the commands that read market data: `--zone TYPE=ZONE` and `--no-cache`.

`--zone`: which time zone a source writes its `t` in. Sierra Chart's dumpers can write trades and
quotes in UTC and bars in chart-local time, or all in chart-local time: that is the feed's
setting, never a guess. Defaults: `DEFAULT_ZONES` in `mia/market/sctime.py` (trade, quote: UTC;
every other type: America/New_York). `--zone trade=America/Chicago` changes one type,
`--zone '*=UTC'` every type not named.

`--no-cache`: read every day from its JSONL files instead of the day cache
(`mia/market/columnar/daycache.py`, sized by `MIA_DAY_CACHE_MB`).
"""
from __future__ import annotations

from mia.errors import MiaError
from mia.market.sctime import DEFAULT_ZONES, zone_error


def add_zone_option(p) -> None:
    p.add_argument("--zone", action="append", default=[], metavar="TYPE=ZONE",
                   help="time zone of an event type's t, e.g. trade=UTC or '*=America/Chicago' "
                        "(repeatable; default: trade, quote UTC, the rest America/New_York)")


def zones_from(args) -> dict[str, str] | None:
    """The zone map the `--zone` options ask for (None: the defaults)."""
    if not getattr(args, "zone", None):
        return None
    zones = dict(DEFAULT_ZONES)
    for text in args.zone:
        typ, sep, zone = text.partition("=")
        typ, zone = typ.strip(), zone.strip()
        if not sep or not typ or not zone:
            raise MiaError(f"--zone {text!r}: error: expected TYPE=ZONE, e.g. trade=UTC")
        problem = zone_error(typ, zone)
        if problem:
            raise MiaError(f"--zone {text!r}: error: {problem}")
        zones[typ] = zone
    return zones


def add_cache_option(p) -> None:
    p.add_argument("--no-cache", action="store_true",
                   help="read every day from its JSONL files, not from the day cache")


def cache_from(args):
    """The ``DayCache`` to read days through (None: ``--no-cache``, or ``MIA_DAY_CACHE_MB=0``)."""
    from mia.market.columnar.daycache import DayCache

    return None if args.no_cache else DayCache.from_env()
