"""Reply sentences: a short spoken answer rendered from a command's result.

The result is the command bus's ``Result`` (``mia.runtime.commands``): a refused command says why,
``status`` says the position, today's P&L and the gate ("Flat. Daily P and L plus 250 dollars.
Trading active.", then the rules' labels: "Bn score balanced, gamma phase expiry week."),
``positions``, ``pnl``, ``why``, ``rules`` and the trading commands one short sentence each. A plain dict (a dry run, a test) is read by its known keys, in this order:
``error``, ``message``, ``position`` (signed contracts, with ``symbol`` and ``avg_price``),
``pnl`` (daily P&L in dollars), ``state`` (active, paused or reduce_only, halted), ``labels``
(feature -> the name of its range), ``rules`` (a list of names or a count). Anything else: "<Command> done."
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


_GATE = {"ACTIVE": "active", "REDUCE_ONLY": "reduce_only", "HALTED": "halted"}


def _from_result(command: str, r) -> dict:
    """A bus ``Result`` as the keys ``render_reply`` reads."""
    d = r.data or {}
    if not r.ok:
        return {"error": (r.text or "refused").splitlines()[0].rstrip(".")}
    if command == "status":
        return {"position": d.get("position"), "avg_price": d.get("avg_price"), "pnl": d.get("pnl_usd"),
                "state": _GATE.get(d.get("gate")), "labels": d.get("labels") or {},
                **({"message": "The last rule edit was refused"} if d.get("rules_error") else {})}
    if command == "positions":
        return {"position": d.get("position"), "avg_price": d.get("avg_price")}
    if command == "pnl":
        return {"pnl": d.get("pnl_usd"), "message": f"{d.get('trades', 0)} closed trades"}
    if command == "why":
        first = (r.text or "").splitlines()[0] if r.text else "nothing to explain"
        return {"message": first.split(": ", 1)[-1]}
    if command == "rules":
        return {"message": f"Rules {str(d.get('version', ''))[:6]}", "rules": d.get("signals", [])}
    if command in ("pause", "resume", "flatten"):
        return {"message": r.text.split(";")[0], "state": _GATE.get(d.get("gate"))}
    return {"message": r.text}


def render_reply(command: str, result: object) -> str:
    """One short sentence (or a few) for the result of ``command``."""
    if isinstance(result, str):
        return result
    if hasattr(result, "ok") and hasattr(result, "data"):
        result = _from_result(command, result)
    if not isinstance(result, dict) or not result:
        return f"{command.capitalize()} done."
    out: list[str] = []
    if result.get("error"):
        out.append(f"{command.capitalize()} failed: {result['error']}.")
    if result.get("message"):
        message = str(result["message"]).rstrip(".")
        out.append(message[:1].upper() + message[1:] + ".")
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
    if result.get("labels"):
        said = ", ".join(f"{str(k).replace('_', ' ')} {v}" for k, v in result["labels"].items())
        out.append(said[:1].upper() + said[1:] + ".")
    if "rules" in result:
        rules = result["rules"]
        if isinstance(rules, list):
            out.append(f"{len(rules)} rule{'s' if len(rules) != 1 else ''} active"
                       + (": " + ", ".join(map(str, rules)) if rules else "") + ".")
        else:
            out.append(f"{rules} rules active.")
    return " ".join(out) if out else f"{command.capitalize()} done."
