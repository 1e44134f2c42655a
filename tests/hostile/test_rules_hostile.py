"""Hostile rule files: whatever sits in a rules folder, `mia check` ends soon, in bounded memory,
with every error of every file at its `path:line:col` and never a traceback.

Each class of fault found by hand (issue 10) is here with the case that found it: a YAML alias
bomb, a FIFO named x.yaml, an editor's lock link and a macOS resource fork in the folder, errors
reported one stage at a time, settings nothing checked (a negative cooldown or VIX halt), a
reason with a brace left open, a date taken for arithmetic; then a fuzz of hostile YAML values
in every place of a rule file.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mia.dsl import RuleError, load_rules

MIA = str(Path(sys.executable).parent / "mia")
RULES = Path(__file__).resolve().parents[2] / "rules"

#: the 533-byte "billion laughs": nine levels of nine aliases, 9**9 strings once expanded
ALIAS_BOMB = "\n".join(
    ["version: 1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [{','.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]) + "\n"


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))     # 2 GB: the bomb wanted 5


def check(*paths, timeout: float = 60) -> subprocess.CompletedProcess:
    """`mia check PATHS` as a process: bounded in time and memory, so a hang fails the test."""
    proc = subprocess.run([MIA, "check", *map(str, paths)], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limit_memory)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def errors_of(paths) -> list[tuple[int, int, str]]:
    with pytest.raises(RuleError) as exc:
        load_rules(paths)
    return [(d.pos.line, d.pos.col, d.message) for d in exc.value.diagnostics]


# ---- reading the files -----------------------------------------------------------------------

def test_an_alias_bomb_is_refused_at_its_first_alias(tmp_path):
    assert len(ALIAS_BOMB.encode()) < 600
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)
    proc = check(tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{tmp_path / 'bomb.yaml'}:3:8: error: YAML aliases (*a) are not allowed "
                                  "in rule files")


def test_one_alias_is_refused_too(tmp_path):
    (tmp_path / "r.yaml").write_text("version: 1\nparams:\n  a: &x 5 ticks\n  b: *x\n")
    assert errors_of([tmp_path]) == [(4, 6, "YAML aliases (*x) are not allowed in rule files: write the value out")]


def test_a_fifo_named_like_a_rule_file_does_not_hang(tmp_path):
    (tmp_path / "ok.yaml").write_text("version: 1\n")
    os.mkfifo(tmp_path / "x.yaml")
    proc = check(tmp_path, timeout=30)
    assert proc.returncode == 1
    assert f"{tmp_path / 'x.yaml'}:1:1: error: is a FIFO (named pipe), not a regular file" in proc.stderr
    proc = check(tmp_path / "x.yaml", timeout=30)            # named on the command line too
    assert "is a FIFO (named pipe), not a regular file" in proc.stderr


def test_a_device_is_not_read(tmp_path):
    proc = check("/dev/zero", timeout=30)
    assert proc.returncode == 1 and "/dev/zero:1:1: error: is a character device, not a regular file" in proc.stderr


def test_hidden_files_are_skipped_and_said(tmp_path):
    for f in RULES.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text())
    os.symlink("user@host.12345:1700000000", tmp_path / ".#risk.yaml")          # an Emacs lock link
    (tmp_path / "._risk.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    proc = check(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"skipped hidden file {tmp_path / '.#risk.yaml'}" in proc.stdout
    assert f"skipped hidden file {tmp_path / '._risk.yaml'}" in proc.stdout
    assert f"{len(list(RULES.glob('*.yaml')))} files" in proc.stdout


def test_a_folder_of_hidden_files_only_says_what_it_skipped(tmp_path):
    (tmp_path / ".risk.yaml").write_text("version: 1\n")
    proc = check(tmp_path)
    assert proc.returncode == 1
    assert "no rule files (*.yaml) in this folder (hidden files skipped: .risk.yaml)" in proc.stderr


def test_a_hidden_file_named_on_the_command_line_is_read(tmp_path):
    (tmp_path / ".mine.yaml").write_text("version: 1\n")
    assert load_rules([tmp_path / ".mine.yaml"]).files == [str(tmp_path / ".mine.yaml")]


def test_a_dangling_link_says_so(tmp_path):
    os.symlink(tmp_path / "gone.yaml", tmp_path / "r.yaml")
    assert errors_of([tmp_path]) == [(1, 1, "no such file (a link to nothing)")]


# ---- every error at once -----------------------------------------------------------------------

EVERYTHING_WRONG = """\
version: 1
risk:
  max_position: 0
  capital: -5 USD
  daily_loss: 10 ticks
  trading_hours: 09:30-16:00 Mars/Olympus
  cooldown_after_stop: -15 min
  halt_vix_above: -1
signals:
  - {name: a, when: "close > 1", side: buy}
  - {name: b, when: "close + 1", side: long}
hard_rules:
  - {name: h, when: "close > 1", block: entries, reason: "unterminated {close"}
features:
  x: 2025-11-20
"""


def test_every_error_of_a_file_is_reported_at_once(tmp_path):
    """Once, only max_position was reported; fixed, capital; then daily_loss; then the zone."""
    (tmp_path / "r.yaml").write_text(EVERYTHING_WRONG)
    got = errors_of([tmp_path])
    lines = EVERYTHING_WRONG.splitlines()
    at = [(3, "0"), (4, "-5"), (5, "10"), (6, "09:30"), (7, "-15"), (8, "-1"), (10, "buy"), (11, 'close + 1'),
          (13, "{close"), (15, "2025")]
    assert [(line, col) for line, col, _ in got] == [(n, lines[n - 1].index(text) + 1) for n, text in at]
    messages = "\n".join(m for _, _, m in got)
    for fragment in ("risk.max_position must be at least 1, got 0", "risk.capital must be more than 0 USD",
                     "risk.daily_loss must be in USD, got ticks", "unknown time zone 'Mars/Olympus'",
                     "risk.cooldown_after_stop must be 0 min or more",
                     "risk.halt_vix_above must be more than 0, got -1",
                     "signals[0].side must be one of long, short, got 'buy'",
                     "'when' must be a condition (true or false)",
                     "'{' without its closing '}' in the reason",
                     "2025-11-20 is a date, and rules have no dates"):
        assert fragment in messages


def test_an_error_in_a_definition_is_not_reported_again_at_its_uses(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "version: 1\nparams:\n  p: 5 tiks\nfeatures:\n  f: 'close +'\n  g: f * 2\n  d: [1, 2]\n"
        "signals:\n  - {name: s, when: 'g > p and d > 0 and h > 1', side: long}\n")
    got = errors_of([tmp_path])
    assert [(line, col) for line, col, _ in got] == [(3, 8), (5, 14), (7, 6), (9, 42)]   # ... 'h > 1' at 42
    assert "unknown unit 'tiks'" in got[0][2] and "unexpected end" in got[1][2]
    assert "features.d must be" in got[2][2] and "unknown name 'h'" in got[3][2]


def test_a_file_that_cannot_be_read_stops_before_names_are_checked(tmp_path):
    """Without the broken file, its names would be 'unknown' everywhere else: not said."""
    (tmp_path / "a.yaml").write_text("version: 1\nfeatures:\n  f: close\n  g: [\n")
    (tmp_path / "b.yaml").write_text("version: 1\nsignals:\n  - {name: s, when: 'f > 1', side: up}\n")
    got = errors_of([tmp_path])
    assert len(got) == 2 and "YAML syntax" in got[0][2] and "side must be one of long, short" in got[1][2]


@pytest.mark.parametrize("reason,at,fragment", [
    ("open {close", 5, "'{' without its closing '}'"),
    ("close} ticks", 5, "'}' without an opening '{'"),
    ("{a{close}}", 0, "'{' without its closing '}'"),
])
def test_a_brace_without_its_pair_in_a_reason(tmp_path, reason, at, fragment):
    prefix = "  - {name: h, when: 'close > 1', block: entries, reason: '"
    (tmp_path / "r.yaml").write_text(f"version: 1\nhard_rules:\n{prefix}{reason}'}}\n")
    got = errors_of([tmp_path])
    assert got[0][:2] == (3, len(prefix) + at + 1) and fragment in got[0][2]


@pytest.mark.parametrize("where", ["features:\n  x: 2025-11-20\n",
                                   "signals:\n  - {name: s, when: 2025-11-20, side: long}\n"])
def test_a_date_is_not_arithmetic(tmp_path, where):
    (tmp_path / "r.yaml").write_text("version: 1\n" + where)
    (line, _col, message), = errors_of([tmp_path])
    assert line == 3 and message.startswith("2025-11-20 is a date, and rules have no dates")
    (tmp_path / "r.yaml").write_text("version: 1\n" + where.replace("2025-11-20", "'2025 - 11 - 20 > 0'")
                                     .replace("x: '2025 - 11 - 20 > 0'", "x: '2025 - 11 - 20'"))
    load_rules([tmp_path])                                   # quoted, it is the expression it says


@pytest.mark.parametrize("setting,message", [
    ("cooldown_after_stop: -15 min", "risk.cooldown_after_stop must be 0 min or more"),
    ("halt_vix_above: -1", "risk.halt_vix_above must be more than 0, got -1"),
    ("halt_vix_above: 0", "risk.halt_vix_above must be more than 0, got 0"),
])
def test_settings_that_make_no_sense_are_refused(tmp_path, setting, message):
    (tmp_path / "r.yaml").write_text(f"version: 1\nrisk:\n  {setting}\n")
    assert [m for _, _, m in errors_of([tmp_path])] == [message]


def test_a_zero_cooldown_is_allowed(tmp_path):
    (tmp_path / "r.yaml").write_text("version: 1\nrisk:\n  cooldown_after_stop: 0 min\n  halt_vix_above: 80\n")
    rs = load_rules([tmp_path])
    assert rs.risk.cooldown_after_stop_min == 0 and rs.risk.halt_vix_above == 80


# ---- a fuzz: hostile YAML values in every place ---------------------------------------------------

HOSTILE = st.sampled_from([
    "2025-11-20", "2025-11-20T10:41:00Z", "09:30", "25:61", "yes", "no", "~", "null", ".inf", "-.inf", ".nan",
    "1e999", "-1e999", "0x1F", "0o17", "1_000", "9" * 400, "-0", "[]", "{}", "[1, [2, [3]]]", "{a: {b: c}}",
    "'{'", "'}'", "'{close'", "'close}'", "'{}'", "'{{close}}'", "!!binary aGVsbG8=", "!!set {a, b}",
    "!!python/object:os.system ls", "&x 1", "'\\u0000'", "\"\\x00\"", "'\\t'", "''", "' '", "-15 min",
    "-1", "0", "1e308 ticks", "5 tiks", "close", "close +", "sma(close, 99999)", "'a: b'",
])
PLACES = [
    "instrument: {v}", "params:\n  p: {v}", "features:\n  f: {v}",
    "signals:\n  - {{name: s, when: {v}, side: long}}", "signals:\n  - {{name: {v}, when: 'close > 1', side: long}}",
    "signals:\n  - {{name: s, when: 'close > 1', side: {v}, priority: {v}}}",
    "hard_rules:\n  - {{name: h, when: 'close > 1', block: entries, reason: {v}}}",
    "hard_rules:\n  - {{name: h, when: 'close > 1', size_factor: {v}}}",
    "risk:\n  capital: {v}\n  daily_loss: {v}", "risk:\n  max_position: {v}", "risk:\n  cooldown_after_stop: {v}",
    "risk:\n  halt_vix_above: {v}", "risk:\n  trading_hours: {v}", "risk:\n  stale_bar_seconds: {v}",
    "exits:\n  stop: {v}\n  take_profit: {v}", "sizing:\n  base: {v}\n  scale:\n    - {{when: {v}, factor: {v}}}",
    "{v}: 1", "version: {v}",
]


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(places=st.lists(st.sampled_from(PLACES), min_size=1, max_size=3, unique=True), values=st.lists(HOSTILE, min_size=3,
                                                                                                     max_size=3))
def test_hostile_values_anywhere_give_positioned_errors(tmp_path, places, values):
    """Only `RuleError`s come out, each inside the file; nothing is taken silently: a file that
    loads has no date, alias or brace taken for something else."""
    body = ["version: 1"] if not any(p.startswith("version") for p in places) else []
    for place, v in zip(places, values):
        body.append(place.format(v=v))
    text = "\n".join(body) + "\n"
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        pass
    path = tmp_path / "r.yaml"
    path.write_text(text)
    lines = text.splitlines()
    try:
        rs = load_rules([path])
    except RuleError as exc:
        for d in exc.diagnostics:
            assert 1 <= d.pos.line <= max(len(lines), 1) and d.pos.col >= 1, (text, d)
        return
    for f in rs.features:
        assert "2025" not in f.expr.text, text
    for h in rs.hard_rules:
        assert all(p.expr is not None or ("{" not in p.text and "}" not in p.text) for p in h.reason), text


def test_an_integer_too_long_for_a_float_is_an_error(tmp_path):
    """Found by the fuzz below: `p: 999...9` (400 digits) raised OverflowError."""
    big = "9" * 400
    (tmp_path / "r.yaml").write_text(f"version: 1\nparams:\n  p: {big}\nrisk:\n  stale_bar_seconds: {big}\n"
                                     f"hard_rules:\n  - {{name: h, when: 'close > 1', size_factor: {big}}}\n")
    got = errors_of([tmp_path])
    messages = [m for _, _, m in got]
    assert [(line, col) for line, col, _ in got][:2] == [(3, 6), (5, 22)]
    assert messages[0] == "expected a finite number, got a number too large"
    assert messages[1] == "risk.stale_bar_seconds must be a finite number"
    assert any("size_factor must be at most 1" in m for m in messages[2:])
