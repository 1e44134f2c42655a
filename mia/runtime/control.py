"""The control API: a Unix socket (mode 0600) through which `mia status`, `mia flatten`, ... talk
to the running supervisor.

One JSON object per line each way. A request: ``{"command": "status", "args": [], "origin":
"cli", "confirmed": false}``; the answer: a ``Result`` (``command``, ``ok``, ``text``, ``data``).
Only the user who started the supervisor can connect (the socket file is 0600 in a folder the
user owns). A socket file left by a supervisor that died is replaced; a live one is refused.
A request that is not one JSON object of that shape gets an answer with ``ok: false``, never
a dropped connection or a traceback. ``ask`` is the client side.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from mia.errors import MiaError
from mia.runtime.commands import NAMES, Command, Result

#: a request line longer than this is refused (a command is a few words)
MAX_REQUEST = 64 * 1024


class NoSupervisor(MiaError):
    """Nothing answers on the control socket."""


def _bad(text: str) -> bytes:
    return orjson.dumps(Result("?", False, {}, text).to_json()) + b"\n"


def parse_request(line: bytes) -> Command | str:
    """The ``Command`` a request line asks for, or why it is not one."""
    try:
        req = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "not a JSON request"
    if not isinstance(req, dict) or not isinstance(req.get("command"), str):
        return 'a request is a JSON object with a "command"'
    name = req["command"]
    if name not in NAMES:
        return f"unknown command {name!r} (one of {', '.join(NAMES)})"
    args = req.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return '"args" must be a list of strings'
    origin = req.get("origin", "control")
    if not isinstance(origin, str) or not origin:
        origin = "control"
    return Command(name, tuple(args), origin[:80], bool(req.get("confirmed", False)))


class ControlServer:
    """Serves ``handle(command) -> Result`` on the Unix socket ``path``."""

    def __init__(self, path: str | Path, handle: Callable[[Command], Awaitable[Result]]):
        self.path = Path(path)
        self.handle = handle
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MiaError(f"{path.parent}: error: cannot create the control socket's folder: "
                           f"{exc.strerror or exc}") from None
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise MiaError(f"{path}: error: exists and is not a socket; name another control.socket")
            if _alive(path):
                raise MiaError(f"{path}: error: another supervisor answers on this control socket")
            path.unlink()                      # left by a supervisor that died
        if len(str(path)) > 100:
            raise MiaError(f"{path}: error: a Unix socket path must be shorter than 100 characters")
        old = os.umask(0o177)
        try:
            self.server = await asyncio.start_unix_server(self._client, path=str(path), limit=MAX_REQUEST)
        except OSError as exc:
            raise MiaError(f"{path}: error: cannot listen on the control socket: {exc.strerror or exc}") from None
        finally:
            os.umask(old)
        os.chmod(path, 0o600)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (asyncio.LimitOverrunError, ValueError):
                    writer.write(_bad(f"request longer than {MAX_REQUEST} bytes"))
                    break
                if not line:
                    break
                cmd = parse_request(line.strip())
                if isinstance(cmd, str):
                    writer.write(_bad(cmd))
                else:
                    result = await self.handle(cmd)
                    writer.write(orjson.dumps(result.to_json(), default=str) + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
            self.server = None
        with contextlib.suppress(OSError):
            if self.path.exists() and stat.S_ISSOCK(self.path.lstat().st_mode):
                self.path.unlink()


def _alive(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def ask(path: str | Path, cmd: Command, timeout: float = 30.0) -> Result:
    """Send ``cmd`` to the supervisor on ``path``; ``NoSupervisor`` when none answers."""
    path = Path(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        try:
            s.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise NoSupervisor(f"no supervisor is running ({path}: nobody answers); start one with `mia run`") \
                from None
        except OSError as exc:
            raise NoSupervisor(f"{path}: cannot reach the supervisor: {exc.strerror or exc}") from None
        req = {"command": cmd.name, "args": list(cmd.args), "origin": cmd.origin, "confirmed": cmd.confirmed}
        s.sendall(orjson.dumps(req) + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise NoSupervisor(f"{path}: the supervisor did not answer within {timeout:g} s") from None
            if not chunk:
                raise NoSupervisor(f"{path}: the supervisor closed the connection without an answer")
            buf += chunk
        d = orjson.loads(buf)
        return Result(d.get("command", cmd.name), bool(d.get("ok")), d.get("data") or {}, d.get("text", ""))
    finally:
        s.close()
