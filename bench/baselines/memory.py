"""The peak resident memory of this process, for the benchmarks' fresh child processes.

``getrusage``'s ``ru_maxrss`` is kept across ``fork`` and ``execve`` on Linux: a child spawned by
a big parent reports at least the parent's size. ``VmHWM`` (``/proc/self/status``) is the peak
of this process's own address space; it is used where there is one.
"""
from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
