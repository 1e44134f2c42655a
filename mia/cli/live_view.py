"""What `mia run` shows: alerts scrolling, a live status line under them, a summary at the end.

On a terminal, rich draws the status line (time, last price, position, today's P&L, gate, rules
version, events/s) and prints each alert above it; elsewhere (a pipe, a log file, CI) each alert
is one plain line and the status is printed every ``PLAIN_STATUS_S`` seconds.
"""
from __future__ import annotations

import asyncio
import time

from rich.console import Console
from rich.live import Live
from rich.text import Text

from mia.cli.richtext import plain
from mia.runtime.alerts import Alert

#: alert kinds shown, and their colour
_STYLE = {"signal": "cyan", "order": "blue", "fill": "green", "stop": "red", "target": "green", "veto": "yellow",
          "gate": "magenta", "reload_ok": "green", "reload_failed": "bold red", "feed_stale": "bold red",
          "feed_back": "green", "feed_skew": "yellow", "broker_down": "bold red", "broker_up": "green",
          "error": "bold red", "daily_summary": "bold", "command": "bold blue", "unauthorized": "bold yellow"}
PLAIN_STATUS_S = 10.0


def status_text(d: dict) -> str:
    pos = d["position"]
    where = "flat" if pos == 0 else f"{'long' if pos > 0 else 'short'} {abs(pos)} @ {d['avg_price']:.2f}"
    last = f"{d['last_price']:.2f}" if d["last_price"] is not None else "-"
    when = (d["last_event"] or "no data yet").replace("T", " ")[:19]
    err = " (edit refused)" if d["rules_error"] else ""
    return (f"{when} | last {last} | {where} | P&L {d['pnl_usd']:+.2f} USD | {d['gate']} | "
            f"rules {d['rules_version'][:8]}{err} | {d['events_per_s']:,.0f} ev/s | {d['mode']} | {d['state']}")


class LiveView:
    def __init__(self, console: Console | None = None):
        self.console = console or Console()
        self.live: Live | None = None
        self._last_plain = 0.0

    def on_alert(self, alert: Alert) -> None:
        style = _STYLE.get(alert.kind)
        if style is None:
            return
        when = alert.to_json()["time"][11:19]
        line = f"[dim]{when}[/dim] [{style}]{plain(alert.text)}[/{style}]"
        self.console.print(line, highlight=False, soft_wrap=True)

    async def run(self, supervisor) -> int:
        """Run ``supervisor`` while showing it; its exit status."""
        supervisor.alerts.subscribe(self.on_alert)
        task = asyncio.create_task(supervisor.run())
        if self.console.is_terminal:
            with Live(Text("starting ..."), console=self.console, refresh_per_second=4, transient=True) as live:
                while not task.done():
                    if supervisor.session is not None and supervisor.journal is not None:
                        live.update(Text(status_text(supervisor.status())))
                    await asyncio.wait({task}, timeout=0.25)
        else:
            while not task.done():
                await asyncio.wait({task}, timeout=1.0)
                if task.done() or supervisor.session is None or supervisor.journal is None:
                    continue
                if time.monotonic() - self._last_plain >= PLAIN_STATUS_S:
                    self._last_plain = time.monotonic()
                    self.console.print(plain(status_text(supervisor.status())), highlight=False)
        return task.result()
