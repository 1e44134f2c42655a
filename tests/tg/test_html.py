"""Telegram HTML: a long message is cut into parts Telegram takes, that together show exactly the
original text (checked with the fake server's own parser)."""
from __future__ import annotations

from fakes.botapi import parse_html
from hypothesis import given, settings
from hypothesis import strategies as st

from mia.alerts import html

_words = st.sampled_from(["a", "word", "6692.25", "<", "&", ">", "é", "😀", "\n", " ", "ticks", '"'])


@st.composite
def markup(draw):
    """Well-formed Telegram markup: escaped text in nested tags."""
    def block(depth):
        out = []
        for _ in range(draw(st.integers(0, 6))):
            if depth < 3 and draw(st.booleans()):
                tag = draw(st.sampled_from(["b", "i", "code", "pre", "u"]))
                out.append(f"<{tag}>" + block(depth + 1) + f"</{tag}>")
            else:
                out.append(html.escape("".join(draw(st.lists(_words, max_size=30)))))
        return "".join(out)
    return block(0)


@settings(max_examples=300, deadline=None)
@given(markup(), st.integers(120, 600))
def test_split_parts_fit_parse_and_add_up_to_the_original(text, limit):
    parts = html.split(text, limit)
    for p in parts:
        assert html.units(p) <= limit
        parse_html(p)                              # Telegram would take it (raises otherwise)
        assert parse_html(p).strip() or len(parts) == 1    # Telegram refuses a message that shows nothing
    # the parts show the original text; only parts of nothing but spaces are left out
    shown = "".join(parse_html(p) for p in parts)
    assert "".join(shown.split()) == "".join(parse_html(text).split())
    if html.units(text) <= limit:
        assert parts == [text]


def test_a_long_message_is_cut_between_lines_and_keeps_its_tags_open_across_parts():
    lines = [f"line {i}: " + "x" * 50 for i in range(200)]
    text = "<b>title</b>\n<pre>" + html.escape("\n".join(lines)) + "</pre>"
    parts = html.split(text)
    assert len(parts) == 3 and all(html.units(p) <= 4096 for p in parts)
    assert parts[0].endswith("\n</pre>") and parts[1].startswith("<pre>line ")   # a cut at a line break
    assert "".join(parse_html(p) for p in parts) == parse_html(text)


def test_one_long_line_is_cut_without_breaking_an_entity_or_a_wide_character():
    text = ("&amp;😀" * 3000)
    parts = html.split(text)
    assert len(parts) > 1
    for p in parts:
        assert html.units(p) <= 4096 and (p.startswith("&amp;") or p.startswith("😀"))
        parse_html(p)                              # no entity cut in two
    assert "".join(parse_html(p) for p in parts) == parse_html(text)


def test_check_flags_what_telegram_refuses():
    assert html.check("<b>ok</b> &amp; -> fine") == []
    assert [off for off, _ in html.check("a < b")] == [2]
    assert [off for off, _ in html.check("<b>x</i>")] == [4]       # </i> closes <b>
