"""Telegram's HTML: escaping a value, checking a template's own markup, cutting a long message.

Telegram takes a subset of HTML (``TAGS``) and the entities ``&lt; &gt; &amp; &quot;`` and
``&#...;``; a ``<`` or ``&`` that is neither is refused with the whole message. So a field
value is always escaped (``escape``); a template's literal markup is checked when it is loaded
(``check``: unknown tags, tags left open or closed twice, a bare ``<`` or ``&``, each at its
offset); and a message longer than Telegram's 4096 characters is cut (``split``) between lines
where it can, never inside a tag or an entity, each part closing the tags it leaves open and
the next reopening them. Lengths are counted as Telegram does, in UTF-16 code units, on the
markup itself (an upper bound of the text Telegram counts).
"""
from __future__ import annotations

import html as _html
import re

#: Telegram's maximum message length
LIMIT = 4096
#: the tags Telegram's HTML parse mode knows
TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code",
                  "pre", "blockquote", "tg-emoji"})

_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:="[^"<>]*")?)*)\s*>')
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


def escape(text: str) -> str:
    """``text`` safe inside a Telegram HTML message (``<``, ``>``, ``&`` and ``"``)."""
    return _html.escape(text, quote=True)


def units(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def check(markup: str) -> list[tuple[int, str]]:
    """The problems of ``markup`` (a template with its placeholders blanked out) as
    (offset, message), in order; [] when Telegram will take it."""
    problems: list[tuple[int, str]] = []
    stack: list[tuple[str, int]] = []
    i = 0
    n = len(markup)
    while i < n:
        c = markup[i]
        if c == "<":
            m = _TAG.match(markup, i)
            if m is None:
                problems.append((i, "a bare '<' in a template: write &lt; (or a tag Telegram knows: "
                                    + ", ".join(sorted(TAGS)) + ")"))
                i += 1
                continue
            closing, name = m.group(1) == "/", m.group(2).lower()
            if name not in TAGS:
                problems.append((i, f"<{'/' if closing else ''}{name}> is not a tag Telegram knows (it takes "
                                    + ", ".join(sorted(TAGS)) + "); write &lt; for a literal '<'"))
            elif closing:
                if not stack:
                    problems.append((i, f"</{name}> closes no tag"))
                elif stack[-1][0] != name:
                    problems.append((i, f"</{name}> closes <{stack[-1][0]}> (tags must close in order)"))
                    stack.pop()
                else:
                    stack.pop()
            else:
                stack.append((name, i))
            i = m.end()
        elif c == "&":
            m = _ENTITY.match(markup, i)
            if m is None:
                problems.append((i, "a bare '&' in a template: write &amp;"))
                i += 1
            else:
                i = m.end()
        else:
            i += 1
    for name, at in stack:
        problems.append((at, f"<{name}> is never closed"))
    return problems


def _atoms(markup: str):
    """(text, what) of ``markup``: what is "open" (with the tag's name), "close", or None
    (a character or an entity: text that must not be cut)."""
    i = 0
    n = len(markup)
    while i < n:
        c = markup[i]
        if c == "<":
            m = _TAG.match(markup, i)
            if m is not None:
                yield m.group(0), ("close" if m.group(1) else "open"), m.group(2).lower()
                i = m.end()
                continue
        elif c == "&":
            m = _ENTITY.match(markup, i)
            if m is not None:
                yield m.group(0), None, None
                i = m.end()
                continue
        yield c, None, None
        i += 1


def split(markup: str, limit: int = LIMIT) -> list[str]:
    """``markup`` cut into messages of at most ``limit`` units: at the last line break that
    keeps a part at least half full, else at the limit; tags open at a cut are closed at the
    end of the part and reopened at the start of the next. A part that would show nothing
    (only spaces, which Telegram refuses) is left out."""
    if units(markup) <= limit:
        return [markup]
    parts: list[str] = []
    stack: list[tuple[str, str]] = []       # (name, opening tag) of the tags open
    cur: list[str] = []
    size = 0
    fixed = 0                               # atoms of cur that only reopen tags
    brk: tuple[int, int, list] | None = None  # (atoms in cur, size, stack) just after the last line break

    def close(st) -> str:
        return "".join(f"</{name}>" for name, _ in reversed(st))

    for text, what, name in _atoms(markup):
        after = list(stack)
        if what == "open":
            after.append((name, text))
        elif what == "close" and after and after[-1][0] == name:
            after.pop()
        u = units(text)
        if size + u + units(close(after)) > limit and len(cur) > fixed:
            if brk is not None and brk[1] >= limit // 2:
                k, _, st = brk
                head, rest = cur[:k], cur[k:]
            else:
                st, head, rest = list(stack), cur, []
            parts.append("".join(head) + close(st))
            cur = [tag for _, tag in st] + rest
            fixed = len(st)
            size = units("".join(cur))
            brk = None
        cur.append(text)
        size += u
        stack = after
        if text == "\n":
            brk = (len(cur), size, list(stack))
    if cur:
        parts.append("".join(cur))
    return [p for p in parts if _TAG.sub("", p).strip()] or parts[:1]
