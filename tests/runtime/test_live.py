"""A live feed (the dumpers' folder followed): its files at start only warm the features, new
lines trade; a feed that goes quiet inside the trading hours halts entries and alerts, and the
halt lifts when data comes back. The control socket: the CLI's commands, hostile requests."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import time
from datetime import date

import pytest

from mia.market.sctime import epoch_to_sc
from mia.runtime.commands import Command
from mia.runtime.config import load_config
from mia.runtime.control import ask
from mia.runtime.supervisor import Supervisor

from .helpers import run_cli, until, write_config

RULES = """\
version: 1
instrument: ES
signals:
  - {name: never, when: close < 0, side: long}
risk:
  trading_hours: 00:00-23:59 America/New_York
"""


def trade_line(t: float, seq: int, px: float = 5000.0) -> str:
    return json.dumps({"t": epoch_to_sc(t, "UTC"), "sym": "ESZ25_FUT_CME", "type": "trade", "chart": 3,
                       "side": "BUY", "px": px, "vol": 1, "seq": seq, "tt": 1}) + "\n"


@pytest.fixture
def live_setup(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(RULES)
    day = tmp_path / "sierra" / f"{date.today():%Y%m%d}"
    day.mkdir(parents=True)
    trades = day / f"chart_3_trade_{date.today():%Y%m%d}.jsonl"
    now = time.time()
    trades.write_text("".join(trade_line(now - 60 + k, k) for k in range(5)))
    cfg = write_config(tmp_path, mode="observe", rules=str(rules),
                       feed={"kind": "sierra", "path": str(tmp_path / "sierra"), "stale_after_s": 1.0,
                             "poll_s": 0.05})
    return cfg, trades


def test_a_quiet_feed_halts_entries_and_data_lifts_it(live_setup):
    cfg_path, trades = live_setup

    async def go():
        cfg = load_config(cfg_path)
        sup = Supervisor(cfg, [cfg.rules], quiet=True)
        seen = []
        sup.alerts.subscribe(seen.append)
        task = asyncio.create_task(sup.run())
        await until(lambda: sup.session is not None and sup.session.features.last_price == 5000.0)
        assert sup.session.events == 0                     # the files at start warm the features only
        with trades.open("a") as fh:
            fh.write(trade_line(time.time(), 100, 5000.25))
        await until(lambda: sup.session.events == 1)
        await until(lambda: sup.feed_stale)                 # no event for 1 s inside the hours
        st = sup.status()
        assert st["feed"] == "stale" and st["gate"] == "HALTED" and "feed stale" in st["gate_reason"]
        stale = [a for a in seen if a.kind == "feed_stale"]
        assert len(stale) == 1 and "entries halted" in stale[0].text
        with trades.open("a") as fh:
            fh.write(trade_line(time.time(), 101, 5000.5))
        await until(lambda: not sup.feed_stale)
        assert sup.status()["gate"] == "ACTIVE" and any(a.kind == "feed_back" for a in seen)
        sup.stop()
        assert await task == 0

    asyncio.run(go())


def test_the_control_socket_serves_the_cli_and_refuses_nonsense(live_setup, tmp_path):
    cfg_path, _ = live_setup

    async def go():
        cfg = load_config(cfg_path)
        sup = Supervisor(cfg, [cfg.rules], quiet=True)
        task = asyncio.create_task(sup.run())
        sock = tmp_path / "j" / "mia.sock"
        await until(lambda: sock.exists() and sup.state == "running")
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        r = await asyncio.to_thread(run_cli, "status", "--config", cfg_path, "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert data["mode"] == "observe" and data["feed_kind"] == "sierra" and data["rules_error"] is None
        r = await asyncio.to_thread(run_cli, "flatten", "--config", cfg_path, cwd=tmp_path)
        assert r.returncode == 1 and "needs a confirmation; add --yes" in r.stderr and "Traceback" not in r.stderr
        r = await asyncio.to_thread(run_cli, "pause", "--config", cfg_path, cwd=tmp_path)
        assert r.returncode == 0 and r.stdout.startswith("paused")
        res = await asyncio.to_thread(ask, sock, Command("resume", (), "test", True))
        assert res.ok and res.data["released"] == ["pause"]

        def raw(payload: bytes) -> dict:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(str(sock))
            s.sendall(payload)
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            s.close()
            return json.loads(buf)

        for payload, words in ((b"hello\n", "not a JSON request"), (b"[1, 2]\n", 'with a "command"'),
                               (b'{"command": "rm -rf"}\n', "unknown command"),
                               (b'{"command": "why", "args": [3]}\n', "list of strings"),
                               (b'{"command": "status"' + b" " * 70000 + b"}\n", "longer than")):
            answer = await asyncio.to_thread(raw, payload)
            assert answer["ok"] is False and words in answer["text"]
        assert (await sup.execute(Command("status"))).ok        # still serving
        sup.stop()
        assert await task == 0
        assert not sock.exists()

    asyncio.run(go())
