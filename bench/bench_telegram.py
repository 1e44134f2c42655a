"""Benchmark: the Telegram front end of a running paper supervisor, against the loopback fake Bot API
(tests/fakes/botapi.py), with real python-telegram-bot in between.

Measured, each repeated (median, min, max):
- ``command_p50_ms`` / ``command_p99_ms``: a /status update handed out by the fake server's
  getUpdates -> the reply's sendMessage received by it (long polling, python-telegram-bot's
  dispatch, the supervisor's command bus and consumer, rendering, the HTTP request), one
  command at a time, the supervisor otherwise idle;
- ``alerts_per_s``: alerts published on the supervisor's alert bus -> all of them received by
  the fake server (render, the outbox row written to the journal, the sender, one HTTP request
  per message, in order);
- ``on_alert_p50_us`` / ``on_alert_p99_us``: what the alert subscriber costs the trading loop
  per alert (render + the outbox row committed), timed inside the alerts/s runs.
Beside them, measured in the same run on the same fake server: ``loopback_rtt_p50_ms``, one
sendMessage round trip with a bare httpx client (the floor of a command round trip, and
``alerts_per_s_ceiling`` = 1 / that round trip for messages sent one after the other).
Prints a table; ``--json`` one JSON object. ``--quick``: fewer commands and alerts.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from mia import HOME

sys.path.insert(0, str(HOME / "tests"))      # the fake Bot API and the driven supervisor live with the tests
from fakes.botapi import TOKEN, FakeBotApi  # noqa: E402
from runtime.helpers import DrivenSupervisor, until, write_config  # noqa: E402

from mia.alerts import telegram_front_end  # noqa: E402
from mia.market.sim import SimConfig, simulate  # noqa: E402
from mia.runtime.alerts import Alert  # noqa: E402

REPEAT = 3
CHAT = 111


def stats(xs: list[float]) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def one_run(tmp: Path, day: Path, fake: FakeBotApi, k: int, commands: int, alerts: int) -> dict:
    os.environ["MIA_BENCH_TG_TOKEN"] = TOKEN
    (tmp / f"run{k}").mkdir()
    cfg = write_config(tmp / f"run{k}", telegram={"token_env": "MIA_BENCH_TG_TOKEN", "base_url": fake.base_url,
                                                  "chat_ids": [CHAT], "poll_timeout_s": 10, "retry_min_s": 0.05,
                                                  "retry_max_s": 0.5},
                       alerts={"file": str(HOME / "alerts" / "alerts.yaml")}, rules=str(HOME / "rules"))
    sup = DrivenSupervisor(cfg, [str(HOME / "rules")], [day])
    fe = telegram_front_end(sup.cfg)
    sup.front_ends.append(fe)
    task = asyncio.create_task(sup.run())
    await until(lambda: sup.state == "running" and fe.connected.is_set())
    # command round trips
    rtts = []
    for _ in range(commands):
        before = len(fake.sent)
        uid = fake.command(CHAT, "/status")
        await until(lambda: len(fake.sent) > before, step=0.0005)
        rtts.append((fake.sent[before]["received"] - fake.served[uid]) * 1e3)
    # alerts through the outbox
    costs = []
    sub = fe.outbox.on_alert

    def timed(alert, sub=sub):
        t0 = time.perf_counter()
        sub(alert)
        costs.append((time.perf_counter() - t0) * 1e6)

    sup.alerts.subscribers[sup.alerts.subscribers.index(sub)] = timed
    before = len(fake.sent)
    t0 = time.perf_counter()
    for i in range(alerts):
        sup.alerts.publish(Alert("fill", sup.session.now, f"FILLED buy 1 at {6690 + i * 0.25:.2f}",
                                 {"order": f"o{i}", "side": "buy", "qty": 1, "price": 6690 + i * 0.25,
                                  "role": "entry"}))
        if i % 50 == 49:
            await asyncio.sleep(0)             # the loop goes on between bursts, as the consumer's does
    await until(lambda: len(fake.sent) >= before + alerts, timeout=300, step=0.001)
    wall = fake.sent[before + alerts - 1]["received"] - t0
    got = [m["shown"] for m in fake.sent[before:before + alerts]]
    assert got == [f"✅ FILLED buy 1 at {6690 + i * 0.25:.2f}" for i in range(alerts)], "order lost"
    sup.driven.finish()
    await asyncio.wait_for(task, 120)
    return {"p50": pct(rtts, 0.5), "p99": pct(rtts, 0.99), "alerts_per_s": alerts / wall,
            "on_alert_p50": pct(costs, 0.5), "on_alert_p99": pct(costs, 0.99)}


async def loopback_rtt(fake: FakeBotApi, n: int) -> list[float]:
    import httpx

    url = f"{fake.base_url}/bot{fake.token}/sendMessage"
    out = []
    async with httpx.AsyncClient() as client:
        for i in range(n + 10):
            t0 = time.perf_counter()
            r = await client.post(url, data={"chat_id": str(CHAT), "text": f"ping {i}"})
            dt = (time.perf_counter() - t0) * 1e3
            assert r.status_code == 200
            if i >= 10:
                out.append(dt)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="50 commands and 200 alerts per run instead of 200 / 1000")
    args = ap.parse_args()
    commands, alerts = (50, 200) if args.quick else (200, 1000)
    tmp = Path(tempfile.mkdtemp(prefix="mia-bench-telegram-"))
    day = tmp / "20251120"
    simulate(SimConfig(day=date(2025, 11, 20), seed=1, minutes=30), day)
    runs, floor = [], []
    with FakeBotApi(chats=(CHAT,)) as fake:
        for k in range(REPEAT):
            runs.append(asyncio.run(one_run(tmp, day, fake, k, commands, alerts)))
            floor.append(pct(asyncio.run(loopback_rtt(fake, commands)), 0.5))

    def col(key, nd=2):
        return [round(r[key], nd) for r in runs]

    rtt = statistics.median(floor)
    result = {
        "commands_per_run": commands, "alerts_per_run": alerts, "repeat": REPEAT,
        "command_p50_ms": statistics.median(col("p50")), "command_p50_ms_runs": stats(col("p50")),
        "command_p99_ms": statistics.median(col("p99")), "command_p99_ms_runs": stats(col("p99")),
        "alerts_per_s": round(statistics.median(col("alerts_per_s", 0))),
        "alerts_per_s_runs": stats(col("alerts_per_s", 0)),
        "on_alert_p50_us": statistics.median(col("on_alert_p50", 1)),
        "on_alert_p99_us": statistics.median(col("on_alert_p99", 1)),
        "loopback_rtt_p50_ms": round(rtt, 3), "loopback_rtt_p50_ms_runs": stats([round(x, 3) for x in floor]),
        "alerts_per_s_ceiling": round(1000 / rtt),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(result))
    else:
        from rich.console import Console
        from rich.table import Table

        r = result
        t = Table(title=f"Telegram front end vs a loopback Bot API, median of {REPEAT} runs")
        for c in ("measure", "median", "min", "max", "beside it"):
            t.add_column(c)
        t.add_row("/status round trip p50 (ms)", str(r["command_p50_ms"]), str(r["command_p50_ms_runs"]["min"]),
                  str(r["command_p50_ms_runs"]["max"]), f"one loopback HTTP round trip {r['loopback_rtt_p50_ms']} ms")
        t.add_row("/status round trip p99 (ms)", str(r["command_p99_ms"]), str(r["command_p99_ms_runs"]["min"]),
                  str(r["command_p99_ms_runs"]["max"]), f"{commands} commands per run")
        t.add_row("alerts/s through the outbox", f"{r['alerts_per_s']:,}", f"{r['alerts_per_s_runs']['min']:,}",
                  f"{r['alerts_per_s_runs']['max']:,}", f"ceiling 1/round trip {r['alerts_per_s_ceiling']:,}/s")
        t.add_row("alert subscriber on the loop p50 / p99 (us)", f"{r['on_alert_p50_us']} / {r['on_alert_p99_us']}",
                  "", "", "render + outbox row committed")
        Console().print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
