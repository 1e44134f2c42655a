"""Command results rendered for a phone: short lines, the numbers that matter in bold, HTML-escaped.

``render(result)`` turns a ``Result`` of the command bus into a Telegram HTML message from its
``data`` (status, positions, P&L, rules) or its ``text`` (why, reload, pause, resume,
flatten); a refused command shows why. ``help_text(role)`` lists the commands a chat may use.
"""
from __future__ import annotations

from mia.alerts.html import escape as e
from mia.runtime.commands import Result

#: the Telegram commands, in the order /help lists them: (command, arguments, what it does, role needed)
COMMANDS = (
    ("status", "", "mode, position, today's P&L, risk gate, feed, rules version, the rules' labels", "read"),
    ("positions", "", "the open position and the working orders", "read"),
    ("pnl", "", "today's P&L: realized, open, trades", "read"),
    ("why", "[HH:MM]", "why (no) trade at that minute (default: the last bar)", "read"),
    ("rules", "", "the active rule set: version, files, signals, hard rules", "read"),
    ("pause", "", "no new entries until /resume (exits still work)", "control"),
    ("resume", "", "allow new entries again (asks to confirm)", "control"),
    ("flatten", "", "cancel working entries, close the position at market (asks to confirm)", "control"),
    ("reload", "", "load, check and compile the rules now", "control"),
    ("help", "", "this list", "read"),
)
NAMES = tuple(c[0] for c in COMMANDS)
CONTROL = frozenset(c[0] for c in COMMANDS if c[3] == "control")


def help_text(role: str) -> str:
    lines = ["<b>mia</b> commands" + (" (this chat is read-only)" if role == "read" else "") + ":"]
    for name, args, what, need in COMMANDS:
        if need == "control" and role != "control":
            continue
        lines.append(f"/{name}{' ' + args if args else ''} — {e(what)}")
    return "\n".join(lines)


def _usd(x) -> str:
    return f"{x:+,.2f} USD" if isinstance(x, (int, float)) else "-"


def _where(pos: int, avg) -> str:
    if not pos:
        return "flat"
    side = "long" if pos > 0 else "short"
    return f"{side} {abs(pos)} @ {avg:.2f}" if isinstance(avg, (int, float)) else f"{side} {abs(pos)}"


def render(result: Result) -> str:
    name = result.command
    d = result.data or {}
    if not result.ok:
        if d.get("needs_confirmation"):
            return f"⚠️ /{e(name)} needs a confirmation: send /{e(name)} and press the button."
        if name == "reload" and d.get("error"):
            return (f"❌ <b>rules not reloaded</b>: {e(str(d.get('version', '')))} keeps running\n"
                    f"<pre>{e(d['error'])}</pre>")
        return f"❌ /{e(name)}: {e(result.text)}"
    if name == "status":
        return _status(d)
    if name == "positions":
        return _positions(d)
    if name == "pnl":
        return _pnl(d)
    if name == "rules":
        return _rules(d)
    if name == "why":
        return f"🔎 <b>why {e(str(d.get('when', '')))}</b>\n{e(result.text)}"
    if name == "reload":
        return f"🔁 {e(result.text)}"
    return f"✅ <b>{e(name)}</b>: {e(result.text)}"


def _status(d: dict) -> str:
    last = f"{d['last_price']:.2f}" if isinstance(d.get("last_price"), (int, float)) else "-"
    gate = f"<b>{e(str(d.get('gate')))}</b>"
    if d.get("gate_reason") and d.get("gate") != "ACTIVE":
        gate += f" ({e(str(d['gate_reason']))})"
    lines = [
        f"<b>{e(str(d.get('mode', '')).upper())}</b> · {e(str(d.get('state', '')))}",
        f"Position: <b>{e(_where(d.get('position', 0), d.get('avg_price')))}</b>"
        + (f" (open {e(_usd(d.get('unrealized_usd')))})" if d.get("position") else ""),
        f"P&amp;L today: <b>{e(_usd(d.get('pnl_usd')))}</b> ({e(_usd(d.get('realized_usd')))} realized), "
        f"{d.get('trades_today', 0)} trades",
        f"Gate: {gate}",
        f"Feed: {e(str(d.get('feed')))} · last {e(last)} · {e(str(d.get('last_event') or 'no data yet'))}",
        f"Rules: <code>{e(str(d.get('rules_version')))}</code>"
        + (f" (last edit refused: {e(str(d['rules_error']))})" if d.get("rules_error") else ""),
    ]
    if d.get("working"):
        lines.append(f"Working entries: {e(', '.join(map(str, d['working'])))}")
    if d.get("labels"):
        lines.append("Market: " + " · ".join(f"{e(str(k))} <b>{e(str(v))}</b>" for k, v in d["labels"].items()))
    return "\n".join(lines)


def _positions(d: dict) -> str:
    lines = [f"Position: <b>{e(_where(d.get('position', 0), d.get('avg_price')))}</b>"
             + (f", open {e(_usd(d.get('unrealized_usd')))}" if d.get("position") else "")]
    orders = d.get("orders") or []
    if not orders:
        lines.append("No working orders.")
    for o in orders:
        price = f" @ {o['price']:.2f}" if isinstance(o.get("price"), (int, float)) else ""
        lines.append(f"• {e(str(o.get('order')))} {e(str(o.get('role')))}: {e(str(o.get('side')))} "
                     f"{o.get('qty')} {e(str(o.get('kind')))}{e(price)}")
    return "\n".join(lines)


def _pnl(d: dict) -> str:
    return "\n".join([
        f"P&amp;L {e(str(d.get('day') or 'today'))}: <b>{e(_usd(d.get('pnl_usd')))}</b>",
        f"Realized {e(_usd(d.get('realized_usd')))}, open {e(_usd(d.get('unrealized_usd')))}",
        f"Closed trades: {d.get('trades', 0)} ({d.get('wins', 0)} won, {d.get('losses', 0)} lost)",
    ])


def _rules(d: dict) -> str:
    lines = [f"Rules <code>{e(str(d.get('version')))}</code> ({e(str(d.get('instrument', '')))}), "
             f"loaded {e(str(d.get('loaded', '')))}",
             f"Files: {e(', '.join(map(str, d.get('files') or [])))}",
             f"Signals: {e(', '.join(d.get('signals') or []) or '-')}",
             f"Hard rules: {e(', '.join(d.get('hard_rules') or []) or '-')}",
             f"Params: {d.get('params', 0)}"]
    if d.get("error"):
        lines.append(f"⚠️ last edit refused: {e(str(d['error']))}")
    return "\n".join(lines)
