"""What the workers are doing, from Celery's own remote control (the dashboard asks the workers themselves).

Two halves share this module:

- the worker side: the ``artstudio_device`` inspect command. It runs in the worker's main process
  (the prefork parent), which must never import torch or touch CUDA (a CUDA context does not survive
  ``fork()``), so it asks ``nvidia-smi`` instead. artstudio/celery.py imports this module, which is
  what registers the command; keep the imports here light (no models, no admin) for that reason;
- the web side: ``workers_overview`` and ``dashboard_context`` for the admin's worker dashboard (the
  view is in generator/admin_views.py); the broker connection and the queue lengths come from
  generator/broker.py.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery.worker.control import inspect_command

if TYPE_CHECKING:
    from celery import Celery

from generator.broker import BrokerUnavailable, broker, default_app, queue_lengths

logger = logging.getLogger(__name__)

DEVICE_COMMAND = "artstudio_device"
DEVICE_CACHE_SECONDS = 10.0
NVIDIA_SMI_TIMEOUT = 3.0  # the command blocks the worker's event loop while it waits: keep it short
NVIDIA_SMI_QUERY = ["--query-gpu=name,memory.total,memory.used", "--format=csv,noheader,nounits"]
START_COMMAND = "celery -A artstudio worker -Q gpu,cpu -P prefork -c 1 -l info"


# --- The worker side ---------------------------------------------------------------------------------

_device_cache: tuple[float, dict[str, Any]] | None = None  # (monotonic time, answer)


@inspect_command(name=DEVICE_COMMAND)
def artstudio_device(state, **_kwargs) -> dict[str, Any]:
    """The engine device setting and the GPUs nvidia-smi sees (never torch: this is the fork parent)."""
    global _device_cache
    now = time.monotonic()
    if _device_cache is None or now - _device_cache[0] > DEVICE_CACHE_SECONDS:
        from django.conf import settings  # read on demand: Django is configured by the time a command arrives

        _device_cache = now, {"setting": settings.ARTSTUDIO_DEVICE, "gpus": gpus_from_nvidia_smi()}
    return _device_cache[1]


def gpus_from_nvidia_smi() -> list[dict[str, Any]]:
    """[{name, memory_total_mib, memory_used_mib}, ...]; [] without nvidia-smi or when it fails."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return []
    try:
        done = subprocess.run(
            [executable, *NVIDIA_SMI_QUERY], capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:  # a wedged driver, a GPU-less container ...
        logger.warning("nvidia-smi failed: %s", exc)
        return []
    gpus = []
    for line in filter(str.strip, done.stdout.splitlines()):
        try:
            name, total, used = (part.strip() for part in line.rsplit(",", 2))  # the name comes first
            gpus.append({"name": name, "memory_total_mib": int(total), "memory_used_mib": int(used)})
        except ValueError:  # "[N/A]" memory on some boards, or a line that is not a GPU
            logger.warning("Could not read nvidia-smi line %r", line)
    return gpus


def device_text(reply: object) -> str:
    """One line for the dashboard: "cpu", "cuda: NVIDIA H200 (140 GiB, 3 GiB used)", or what went wrong.

    Mirrors how the engine picks its device (generator/ml/loading.py): "cpu" means cpu; "auto" and
    "cuda" mean the GPU when there is one; "cuda" without one makes every job fail.
    """
    if not isinstance(reply, dict) or "setting" not in reply:
        return "unknown"  # a worker that predates the command answers {"error": ...}, or nothing
    setting, gpus = reply["setting"], reply.get("gpus") or []
    if setting == "cpu":
        return "cpu"
    if gpus:
        return "cuda: " + "; ".join(
            f"{gpu['name']} ({gpu['memory_total_mib'] / 1024:.0f} GiB, {gpu['memory_used_mib'] / 1024:.0f} GiB used)"
            for gpu in gpus
        )
    if setting == "cuda":
        return "cuda asked for, but no GPU found"
    return "cpu"


# --- The web side ------------------------------------------------------------------------------------


@dataclass
class WorkerInfo:
    name: str  # the node name, e.g. "celery@studio"
    queues: list[str] = field(default_factory=list)
    pool: str = ""  # "prefork", "threads", "solo" ...
    concurrency: int | None = None
    processes: list[int] = field(default_factory=list)  # the pool's pids
    uptime: float | None = None  # seconds
    device: str = "unknown"
    active: list[dict[str, Any]] = field(default_factory=list)  # {id, name, args, started, worker_pid}
    tasks_run: int = 0  # tasks accepted since the worker started

    @property
    def up_since(self) -> datetime | None:
        return None if self.uptime is None else datetime.now(UTC) - timedelta(seconds=self.uptime)


def workers_overview(app: Celery | None = None, *, timeout: float = 1.0) -> list[WorkerInfo]:
    """Every worker that answers within `timeout`, sorted by name; [] when none is online."""
    app = default_app(app)
    with broker(app, write=True, timeout=max(timeout, 1.0)) as conn:
        inspect = app.control.inspect(timeout=timeout, connection=conn)
        stats = inspect.stats() or {}
        if not stats:
            return []
        # A broadcast waits out the whole timeout unless it knows how many replies to expect: now it does,
        # so the other three calls return as soon as these workers have answered.
        inspect.destination, inspect.limit = sorted(stats), len(stats)
        active = inspect.active() or {}
        queues = inspect.active_queues() or {}
        devices = inspect._request(DEVICE_COMMAND) or {}  # how `celery inspect` itself asks a custom command
    return sorted(
        (_worker_info(name, stats[name], active.get(name), queues.get(name), devices.get(name)) for name in stats),
        key=lambda worker: worker.name,
    )


def _worker_info(name: str, stats: dict, active: list | None, queues: list | None, device: object) -> WorkerInfo:
    pool = stats.get("pool") or {}
    implementation = pool.get("implementation", "")  # "celery.concurrency.prefork:TaskPool"
    return WorkerInfo(
        name=name,
        queues=[queue["name"] for queue in queues or ()],
        pool=implementation.partition(":")[0].rpartition(".")[2],
        concurrency=pool.get("max-concurrency"),
        processes=list(pool.get("processes") or ()),
        uptime=stats.get("uptime"),
        device=device_text(device),
        active=[_active_task(task) for task in active or ()],
        tasks_run=sum((stats.get("total") or {}).values()),
    )


def _active_task(info: dict) -> dict[str, Any]:
    started = info.get("time_start")  # seconds since the epoch, or None before the pool accepted it
    return {
        "id": info.get("id"),
        "name": info.get("name"),
        "args": info.get("args") or [],
        "started": datetime.fromtimestamp(started, UTC) if started else None,
        "worker_pid": info.get("worker_pid"),
    }


def dashboard_context(app: Celery | None = None) -> dict[str, Any]:
    """{"workers": [WorkerInfo], "queues": [(name, waiting)], "error": str | None} for the template."""
    try:
        workers = workers_overview(app)
        queues = list(queue_lengths(app).items())
    except BrokerUnavailable as exc:
        return {"workers": [], "queues": [], "error": str(exc), "start_command": START_COMMAND}
    return {"workers": workers, "queues": queues, "error": None, "start_command": START_COMMAND}
