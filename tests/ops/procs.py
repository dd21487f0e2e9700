"""Finding processes through /proc, so the tests need no psutil."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROC = Path("/proc")


def _cmdline(pid: int) -> str:
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
        cmd = _cmdline(pid)
        if text in cmd and not is_zombie(pid):
            found.append((pid, cmd))
    return found


def processes_in_sessions_of(ppid: int) -> list[tuple[int, str]]:
    """Live processes whose parent is `ppid` or whose session was started by one of its children."""
    children = {pid for pid in live_pids() if (_stat(pid)[1:2] or [""])[0] == str(ppid)}
    found = []
    for pid in live_pids():
        fields = _stat(pid)
        if not fields or fields[0] == "Z":
            continue
        parent, _pgrp, session = fields[1], fields[2], fields[3]
        if int(parent) == ppid or int(session) in children:
            found.append((pid, _cmdline(pid)))
    return found
