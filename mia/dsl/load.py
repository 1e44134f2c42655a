"""Read rule files: YAML text -> plain data plus the position of every key and value.

``rule_files`` gathers the files named on the command line (a folder means its *.yaml, hidden
ones left out and listed); ``load_document`` reads one (a regular file only: a FIFO or a device
named x.yaml would hang the read); ``Source`` is an expression string inside a document, mapping
its character offsets back to the file.

PyYAML's composer gives nodes with marks; we build plain Python data from them ourselves, so
that (a) every key and value keeps its file position (errors point into the file), (b) a key
written twice is an error instead of silently taking the last, and (c) `9:30` stays a string
(YAML 1.1 would read it as the base-60 integer 570). ``Document.source_map`` maps each character
of an expression string back to its line and column, whatever the scalar style. YAML aliases
(``*name``) are refused where they are written: rule files have no use for them, and a few
hundred bytes of nested aliases expand to gigabytes (the "billion laughs"). A YAML date
(``2025-11-20``) is kept as its text and its path noted in ``Document.dates``, so that an
expression written as a bare date is an error, not ``2025 - 11 - 20``.
"""
from __future__ import annotations

import bisect
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml
import yaml.reader

from mia.dsl.errors import Pos, Reporter
from mia.dsl.lines import line_starts

JsonPath = tuple  # of str | int


@dataclass
class Document:
    path: str
    text: str
    data: object
    #: json path -> value node; json path -> key node (for mapping entries)
    nodes: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    #: json paths of the values YAML reads as dates (kept as their text)
    dates: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self._line_starts = line_starts(self.text)

    def pos_of_index(self, index: int) -> Pos:
        line = bisect.bisect_right(self._line_starts, index) - 1
        return Pos(self.path, line + 1, index - self._line_starts[line] + 1)

    def value_pos(self, path: JsonPath) -> Pos:
        """Position of the value at ``path`` (or of its nearest existing parent)."""
        while path not in self.nodes and path:
            path = path[:-1]
        node = self.nodes.get(path)
        if node is None:
            return Pos(self.path, 1, 1)
        return self.pos_of_index(node.start_mark.index)

    def key_pos(self, path: JsonPath) -> Pos:
        node = self.keys.get(path)
        if node is None:
            return self.value_pos(path)
        return self.pos_of_index(node.start_mark.index)

    def source_map(self, path: JsonPath) -> list[Pos]:
        """For the string scalar at ``path``: the file position of each character, plus one past the end."""
        node = self.nodes[path]
        value = node.value
        start, end = node.start_mark.index, node.end_mark.index
        raw = self.text[start:end]
        out: list[Pos] = []
        j = 0
        for ch in value:
            k = j
            while k < len(raw) and not (raw[k] == ch or (ch == " " and raw[k] in " \t\r\n")):
                k += 1
            if k >= len(raw):  # escapes we could not follow: point at the scalar's start
                out.append(self.pos_of_index(start))
                continue
            out.append(self.pos_of_index(start + k))
            j = k + 1
        if out:
            last = out[-1]
            out.append(Pos(last.path, last.line, last.col + 1))
        else:
            out.append(self.pos_of_index(start))
        return out


@dataclass
class Source:
    """Where an expression string lives, to map its offsets back to the file."""

    doc: Document
    path: JsonPath
    text: str
    base: int = 0          # offset of ``text`` inside the YAML scalar (reason templates)
    _map: list | None = None

    def pos(self, offset: int) -> Pos:
        if self._map is None:
            self._map = self.doc.source_map(self.path)
        return self._map[min(max(self.base + offset, 0), len(self._map) - 1)]


def rule_files(paths: list[str | Path], rep: Reporter, skipped: list[str] | None = None) -> list[Path]:
    """The rule files named by ``paths``: files as given, folders as their *.yaml / *.yml.

    A folder's hidden files (a name starting with '.': an editor's lock link ``.#risk.yaml``,
    macOS's ``._risk.yaml``) are not rule files: they are left out and appended to ``skipped``.
    """
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
            hidden = [f for f in found if f.name.startswith(".")]
            found = [f for f in found if not f.name.startswith(".")]
            if skipped is not None:
                skipped.extend(str(f) for f in hidden)
            if not found:
                rep.error(Pos(str(p), 1, 1), "no rule files (*.yaml) in this folder"
                          + (f" (hidden files skipped: {', '.join(f.name for f in hidden)})" if hidden else ""))
            files.extend(found)
        elif p.exists() or p.is_symlink():
            files.append(p)
        else:
            rep.error(Pos(str(p), 1, 1), "no such file or folder")
    return files


class _AliasError(yaml.composer.ComposerError):
    """An alias in a rule file (refused: see the module's docstring)."""


class _RuleLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases before they are expanded."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasError(None, None, f"YAML aliases (*{event.anchor}) are not allowed in rule files: "
                                          "write the value out", event.start_mark)
        return super().compose_node(parent, index)


_CONSTRUCTOR = yaml.SafeLoader("")


def _scalar(node: yaml.ScalarNode) -> object:
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and ":" in node.value:
        return node.value  # sexagesimal in YAML 1.1; for us a time like 9:30
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value    # a date is kept as written (``_build`` notes where)
    construct = _CONSTRUCTOR.yaml_constructors.get(node.tag)
    if construct is None:
        raise yaml.constructor.ConstructorError(None, None, f"unsupported tag {node.tag}", node.start_mark)
    return construct(_CONSTRUCTOR, node)


def _build(node: yaml.Node, path: JsonPath, doc: Document, rep: Reporter) -> object:
    doc.nodes[path] = node
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        first: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                rep.error(doc.pos_of_index(key_node.start_mark.index), "a key must be a plain name")
                continue
            try:
                key = str(_scalar(key_node))
            except yaml.YAMLError:
                rep.error(doc.pos_of_index(key_node.start_mark.index), "a key must be a plain name")
                continue
            if key in first:
                line = doc.pos_of_index(first[key].start_mark.index).line
                rep.error(doc.pos_of_index(key_node.start_mark.index),
                          f"duplicate key '{key}' (first defined at line {line})")
                continue
            first[key] = key_node
            doc.keys[path + (key,)] = key_node
            out[key] = _build(value_node, path + (key,), doc, rep)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), doc, rep) for i, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:timestamp":
        doc.dates.add(path)
    try:
        return _scalar(node)
    except yaml.YAMLError as exc:
        rep.error(doc.pos_of_index(node.start_mark.index), f"bad value: {getattr(exc, 'problem', exc)}")
        return None


#: what a path that is not a regular file is, for the error
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class _NotRegular(OSError):
    """The path is not a regular file; the message says what it is."""


def _read_regular(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file (after symlinks); ``IsADirectoryError`` or
    ``_NotRegular`` otherwise. The file is opened without blocking and checked on its open
    descriptor, so a FIFO never hangs the read and nothing can be swapped in between."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise _NotRegular(what)
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            return fh.read()
    finally:
        if fd >= 0:
            os.close(fd)


def read_text(path: Path, rep: Reporter) -> str | None:
    """The file's text, or None after reporting why it cannot be read as a rule file."""
    name = str(path)
    try:
        raw = _read_regular(path)
    except FileNotFoundError:
        rep.error(Pos(name, 1, 1), "no such file" + (" (a link to nothing)" if Path(path).is_symlink() else ""))
        return None
    except IsADirectoryError:
        rep.error(Pos(name, 1, 1), "is a directory, expected a .yaml file")
        return None
    except _NotRegular as exc:
        what = str(exc)
        if what == "a folder":
            rep.error(Pos(name, 1, 1), "is a directory, expected a .yaml file")
        else:
            rep.error(Pos(name, 1, 1), f"is {what}, not a regular file: a rule file must be a plain file")
        return None
    except OSError as exc:
        rep.error(Pos(name, 1, 1), f"cannot read: {exc.strerror or exc}")
        return None
    if b"\x00" in raw:
        rep.error(Pos(name, 1, 1), "not a text file (binary data)")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8")
        starts = line_starts(before)
        rep.error(Pos(name, len(starts), len(before) - starts[-1] + 1), "not valid UTF-8 text")
        return None
    rep.sources[name] = text
    return text


def load_document(path: Path, rep: Reporter) -> Document | None:
    """Parse one YAML rule file; errors go to ``rep`` and give None."""
    text = read_text(path, rep)
    if text is None:
        return None
    name = str(path)
    try:
        nodes = list(yaml.compose_all(text, Loader=_RuleLoader))
    except _AliasError as exc:
        mark = exc.problem_mark
        rep.error(Pos(name, mark.line + 1, mark.column + 1), exc.problem)
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        rep.error(Pos(name, line, col), f"YAML syntax: {problem}")
        return None
    except yaml.reader.ReaderError as exc:
        doc = Document(name, text, None)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        rep.error(doc.pos_of_index(exc.position), f"YAML syntax: special character #x{code:04x} "
                                                  f"(U+{code:04X}) is not allowed in a YAML file")
        return None
    except yaml.YAMLError as exc:
        rep.error(Pos(name, 1, 1), f"YAML syntax: {exc}")
        return None
    except RecursionError:
        rep.error(Pos(name, 1, 1), "YAML nested too deeply")
        return None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        rep.error(Pos(name, 1, 1), "empty rule file (expected a mapping with 'version: 1')")
        return None
    if len(nodes) > 1:
        doc = Document(name, text, None)
        rep.error(doc.pos_of_index(nodes[1].start_mark.index), "one YAML document per rule file (found '---')")
        return None
    doc = Document(name, text, None)
    try:
        doc.data = _build(nodes[0], (), doc, rep)
    except RecursionError:
        rep.error(Pos(name, 1, 1), "YAML nested too deeply")
        return None
    return doc
