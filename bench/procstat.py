"""What the benchmarks read of the machine: from /proc (Linux), CPU time and memory of
processes and how busy the machine was; and how fast it is right now."""

from __future__ import annotations

import os
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(stat: str) -> int:
    """User + system clock ticks from a /proc/<pid>/stat line (after the command's parentheses,
    which may hold spaces)."""
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process."""
    return _cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / _TICK


def database_cpu_seconds() -> float:
    """User + system CPU of every PostgreSQL process on the machine (backends that exit during
    the run take theirs with them; the pool's connections live through it)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        if text[text.index("(") + 1 : text.rindex(")")] == "postgres":
            total += _cpu_ticks(text)
    return total / _TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


def machine_speed() -> float:
    """CPU milliseconds of a fixed pure-Python loop (lower is faster). This 2-vCPU machine's
    speed follows what else its host runs: the same loop has taken 176 ms in some hours and
    430 ms in others, and every figure moves with it."""
    started = time.process_time()
    total = 0
    for i in range(5_000_000):
        total += i
    return (time.process_time() - started) * 1000
