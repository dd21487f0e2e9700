"""Finding processes through /proc, so the tests need no psutil."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROC = Path("/proc")


def cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may contain spaces)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    return raw[raw.rindex(")") + 2 :].split()


def parent(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def live_pids() -> list[int]:
    if not PROC.is_dir():
        pytest.skip("needs /proc (Linux)")
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit() and int(p.name) != os.getpid()]


def is_zombie(pid: int) -> bool:
    fields = _stat(pid)
    return bool(fields) and fields[0] == "Z"


def processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Live (not zombie) processes whose command line contains `text`."""
    found = []
    for pid in live_pids():
        cmd = cmdline(pid)
        if text in cmd and not is_zombie(pid):
            found.append((pid, cmd))
    return found


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, grandchildren, ...)."""
    parent_of = {}
    for child in live_pids():
        fields = _stat(child)
        if fields and fields[0] != "Z":
            parent_of[child] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {c for c, parent in parent_of.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if (PROC / str(pid)).exists() and not is_zombie(pid)}
