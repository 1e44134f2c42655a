"""Reply sentences: a short spoken answer rendered from a command's result (a dict).

The supervisor will define its result types; until then a result is a dict whose known keys each
give one sentence, in this order: ``error``, ``message``, ``position`` (signed contracts, with
``symbol`` and ``avg_price``), ``pnl`` (daily P&L in dollars), ``state`` (active, paused or
reduce_only, halted), ``rules`` (a list of names or a count). "Flat. Daily P and L plus 250
dollars. Trading active." Anything else: "<Command> done."
"""
from __future__ import annotations

_STATES = {"active": "Trading active.", "paused": "Trading paused.", "reduce_only": "Exits only.",
           "halted": "Trading halted."}


def _money(x: float) -> str:
    sign = "plus" if x > 0 else "minus" if x < 0 else ""
    amount = abs(x)
    text = f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"
    return f"{sign} {text} dollars".strip()


def _number(x: float) -> str:
    return f"{x:g}"


def render_reply(command: str, result: object) -> str:
    """One short sentence (or a few) for the result of ``command``."""
    if isinstance(result, str):
        return result
    if not isinstance(result, dict) or not result:
        return f"{command.capitalize()} done."
    out: list[str] = []
    if result.get("error"):
        out.append(f"{command.capitalize()} failed: {result['error']}.")
    if result.get("message"):
        out.append(str(result["message"]).rstrip(".") + ".")
    if "position" in result:
        qty = result["position"] or 0
        if qty == 0:
            out.append("Flat.")
        else:
            side = "Long" if qty > 0 else "Short"
            what = f" {result['symbol']}" if result.get("symbol") else ""
            at = f" at {_number(result['avg_price'])}" if result.get("avg_price") is not None else ""
            out.append(f"{side} {_number(abs(qty))}{what}{at}.")
    if "pnl" in result and result["pnl"] is not None:
        out.append(f"Daily P and L {_money(float(result['pnl']))}.")
    if result.get("state") in _STATES:
        out.append(_STATES[result["state"]])
    if "rules" in result:
        rules = result["rules"]
        if isinstance(rules, list):
            out.append(f"{len(rules)} rule{'s' if len(rules) != 1 else ''} active"
                       + (": " + ", ".join(map(str, rules)) if rules else "") + ".")
        else:
            out.append(f"{rules} rules active.")
    return " ".join(out) if out else f"{command.capitalize()} done."
