"""alerts/alerts.yaml: levels and templates checked at load with positions; rendering escapes every
value and never raises; the field catalog matches the alerts a real run makes."""
from __future__ import annotations

import asyncio
import textwrap

import pytest
from fakes.botapi import parse_html
from runtime.helpers import DrivenSupervisor, write_config

from mia import HOME
from mia.alerts.templates import COMMON, load_templates
from mia.cli import main
from mia.dsl.errors import RuleError
from mia.runtime.alerts import FIELDS, KINDS, Alert

from .helpers import rules_dir


def write(tmp, text: str):
    p = tmp / "alerts.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def errors(path) -> list[str]:
    with pytest.raises(RuleError) as info:
        load_templates(path)
    return [f"{d.pos.line}:{d.pos.col}: {d.message}" for d in info.value.diagnostics]


def test_the_shipped_file_loads_and_names_every_kind_with_veto_off():
    t = load_templates(HOME / "alerts" / "alerts.yaml")
    assert set(t.by_kind) == set(KINDS)
    assert t.level("veto") == "off" and t.level("stop") == "on" and t.level("order") == "silent"


def test_a_bad_placeholder_is_a_positioned_error_at_load(tmp_path):
    p = write(tmp_path, """\
        version: 1
        alerts:
          stop:
            level: on
            template: "STOP {side} {qty} out at {exit_prise:.2f}"
        """)
    errs = errors(p)
    assert len(errs) == 1
    # line 5, the column of the field's name inside the quoted string
    assert errs[0].startswith("5:42: alerts.stop.template: unknown field 'exit_prise' for stop alerts "
                              "(did you mean 'exit_price'?)")
    with pytest.raises(RuleError) as info:
        load_templates(p)
    assert str(info.value).startswith(f"{p}:5:42: error: ")


def test_every_kind_of_template_mistake_is_reported_at_once(tmp_path):
    p = write(tmp_path, """\
        version: 1
        alerts:
          signal: loud
          fil: on
          fill: {level: on, template: "{price:d} {side:.2f} {qty!r} {a.b} x } y"}
          gate:
            template: "<b>RISK {from} -> {to} <blink>x</blink> & more"
          error:
            template: "oops {error"
        """)
    errs = errors(p)
    text = "\n".join(errs)
    assert "3:11: alerts.signal must be on, silent or off, got 'loud'" in text
    assert "4:3: unknown alert kind 'fil' (did you mean 'fill'?)" in text
    assert "the format 'd' does not suit this field (a number)" in text
    assert "the format '.2f' does not suit this field (text)" in text
    assert "conversions (!r, !s) are not supported" in text
    assert "'{a.b}' is not a placeholder" in text
    assert "a single '}'" in text
    assert "<blink> is not a tag Telegram knows" in text
    assert "a bare '&' in a template: write &amp;" in text
    assert "<b> is never closed" in text
    assert "'{' opens a placeholder that is never closed" in text
    assert all(e.split(":")[0].isdigit() for e in errs) and len(errs) == 12     # <blink> and </blink>


def test_yaml_on_off_and_shorthand_levels(tmp_path):
    p = write(tmp_path, """\
        version: 1
        alerts:
          veto: on
          fill: off
          order: silent
          stop: {level: silent}
        """)
    t = load_templates(p)
    assert [t.level(k) for k in ("veto", "fill", "order", "stop")] == ["on", "off", "silent", "silent"]
    # kinds left out: on, as their text (veto: off)
    assert t.level("gate") == "on" and t.render(Alert("gate", 0, "RISK a -> b")) == ("RISK a -&gt; b", False)
    assert t.render(Alert("fill", 0, "x")) is None
    assert t.render(Alert("stop", 0, "x"))[1] is True


def test_values_are_escaped_and_the_template_markup_kept(tmp_path):
    t = load_templates(HOME / "alerts" / "alerts.yaml")
    t.by_kind["veto"] = t.by_kind["veto"].__class__("veto", "on", t.by_kind["veto"].parts)
    a = Alert("veto", 1763393460.0, "x", {"rule": "a<b&c", "where": "rules/hard_rules.yaml:12",
                                         "by": "blind_spot<x> (rules/hard_rules.yaml:12)",
                                         "reason": "3 ticks from blind spot 6693.00 & <i>more</i>"})
    markup, silent = t.render(a)
    assert markup == ("⛔ <b>ENTRY BLOCKED</b> by blind_spot&lt;x&gt; (rules/hard_rules.yaml:12): 3 ticks from "
                      "blind spot 6693.00 &amp; &lt;i&gt;more&lt;/i&gt;")
    assert parse_html(markup) == ("⛔ ENTRY BLOCKED by blind_spot<x> (rules/hard_rules.yaml:12): 3 ticks from "
                                  "blind spot 6693.00 & <i>more</i>")
    err = Alert("reload_failed", 0, "x", {"error": "r.yaml:3:9: error: unknown name 'a<b'\n    when: a<b & c\n",
                                         "version": "abc", "why": "edited r.yaml"})
    shown = parse_html(t.render(err)[0])
    assert "unknown name 'a<b'\n    when: a<b & c" in shown


def test_rendering_never_raises(tmp_path):
    p = write(tmp_path, """\
        version: 1
        alerts:
          fill: {level: on, template: "{qty:03d} at {price:.2f} {role}"}
        """)
    t = load_templates(p)
    # a value of another type than the catalog says, a missing field, a None, a non-dict: no exception
    markup, _ = t.render(Alert("fill", 0, "FLAT", {"qty": "two", "price": None}))
    assert markup.startswith("two at ")
    assert t.render(Alert("fill", 0, "FLAT <x>", None))[0] == "FLAT &lt;x&gt;"     # nothing to show: the text
    assert t.render(Alert("no_such_kind", 0, "a & b", {}))[0] == "a &amp; b"


def test_mia_run_refuses_a_bad_template_before_starting(tmp_path, monkeypatch):
    monkeypatch.setenv("MIA_TEST_TG_TOKEN", "123:abcdefghijkl")
    p = write(tmp_path, 'version: 1\nalerts:\n  stop: {template: "{nett_usd}"}\n')
    cfg = write_config(tmp_path, telegram={"token_env": "MIA_TEST_TG_TOKEN", "chat_ids": [1],
                                           "base_url": "http://127.0.0.1:9"},
                       alerts={"file": str(p)})
    import io
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["run", "--config", str(cfg), "--quiet"]) == 1
    assert err.getvalue().startswith(f"{p}:3:22: error: alerts.stop.template: unknown field 'nett_usd'")
    assert "Traceback" not in err.getvalue()
    assert not (tmp_path / "j" / "journal.sqlite").exists()      # nothing was started


def test_the_field_catalog_matches_the_alerts_a_run_makes(tmp_path, day):
    """Every alert of a paper run (signals, orders, fills, stops/targets, vetoes, gate changes,
    commands, the daily summary) carries only catalogued fields, of the catalogued types."""
    from mia.runtime.commands import Command

    from runtime.helpers import feed_until, until

    async def go():
        sup = DrivenSupervisor(write_config(tmp_path, rules=str(HOME / "rules")), [str(HOME / "rules")], [day])
        task = asyncio.create_task(sup.run())
        await until(lambda: sup.state == "running")
        await feed_until(sup, lambda: any(a.kind == "fill" for a in sup.seen))
        await sup.execute(Command("pause", origin="test"))
        await sup.execute(Command("flatten", origin="test", confirmed=True))
        sup.driven.finish()
        await task
        return sup.seen

    rules_dir(tmp_path)
    seen = asyncio.run(go())
    kinds = {a.kind for a in seen}
    assert {"signal", "order", "fill", "command", "daily_summary", "gate"} <= kinds
    for a in seen:
        assert a.kind in KINDS
        for name, value in a.fields.items():
            assert name in FIELDS[a.kind], (a.kind, name)
            want = FIELDS[a.kind][name]
            assert isinstance(value, want) or (want is float and isinstance(value, int)), (a.kind, name, value)
            assert name not in COMMON or name == "time"
