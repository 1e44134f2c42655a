"""Waiting for the files under a folder to change: the live tail's wake-up.

``FolderWatch(path).wait(timeout)`` returns as soon as a file under ``path`` (a folder and its
day folders, or a file's folder) is written, created, moved or removed (True), or when
``timeout`` seconds pass (False). It uses the operating system's notifications (inotify on
Linux) through watchfiles' notify backend, so a line a dumper appends wakes the reader within
a few milliseconds, and nothing runs while nothing changes. Where there are none (a folder not
there yet, a file system that gives no notifications, watchfiles unable to start) it just waits
out the timeout: the caller polls every ``timeout`` seconds anyway, which is the fallback. A
folder that appears later is watched from then on (tried again every few seconds).
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: once a change is seen, changes are gathered this long (ms) before returning: a burst of
#: appends is one wake-up, and a file written without a pause still wakes the reader this often
DEBOUNCE_MS = 4
#: the watcher's step (ms): how often it checks what the notifications brought
STEP_MS = 1
#: how long (s) after a failed start the notifications are tried again
RETRY_S = 5.0


class FolderWatch:
    def __init__(self, path: str | Path, notify: bool = True):
        """``notify``: False waits out every timeout (polling only)."""
        self.path = Path(path)
        self.notify = notify
        self._rn = None
        self._tried = -float("inf")
        self.watching = False

    def _root(self) -> Path | None:
        p = self.path
        if p.is_dir():
            return p
        if p.is_file():
            return p.parent
        return None

    def _start(self) -> None:
        self._tried = time.monotonic()
        root = self._root()
        if root is None:
            return
        try:
            from watchfiles._rust_notify import RustNotify

            self._rn = RustNotify([str(root)], False, False, 300, True, True)
            self._root_id = _identity(root)
            self.watching = True
        except Exception as exc:              # no notifications here: polling only
            log.info("%s: file notifications unavailable (%s); polling", root, exc)
            self._rn, self.watching = None, False

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Until something under the path changes (True) or ``timeout`` seconds pass (False);
        ``stop``, once set, ends the wait early."""
        if self._rn is None and self.notify and time.monotonic() - self._tried >= RETRY_S:
            self._start()
        if self._rn is None:
            if stop is not None:
                stop.wait(timeout)
            else:
                time.sleep(timeout)
            return False
        try:
            got = self._rn.watch(DEBOUNCE_MS, STEP_MS, max(1, int(timeout * 1000)), stop)
        except Exception as exc:              # the folder went away, the watcher broke: poll
            log.info("%s: file notifications stopped (%s); polling", self.path, exc)
            self.close()
            return False
        if isinstance(got, set):
            return True
        root = self._root()                   # a folder replaced or gone: its watch with it
        if root is None or _identity(root) != self._root_id:
            self.close()
            self._tried = -float("inf")
        return False

    _root_id: tuple | None = None

    def close(self) -> None:
        rn, self._rn = self._rn, None
        self.watching = False
        if rn is not None:
            try:
                rn.close()
            except Exception:
                pass

    def __enter__(self) -> "FolderWatch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _identity(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino
