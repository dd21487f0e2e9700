"""What a worker process does when it starts, besides running tasks.

The main process runs the scheduler's tick (artstudio/celery.py, JobTick) and learns its queues; each pool
child sets its threads and warms the engine in a thread. Nothing here imports torch at module level: the
worker's prefork parent imports this module, and the parent must never initialise CUDA (a CUDA context
does not survive fork(); children inheriting one crash or hang). Each child loads the engine after the
fork, in ``warm_engine``.

artstudio/celery.py imports this module to connect the hooks, and every process that imports the `artstudio`
package imports that (the launcher too, which must never load the database layer): the database, the
scheduler, the queues and the registry are imported inside the functions, which run in a started worker.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from celery.signals import celeryd_after_setup, worker_process_init, worker_ready
from django.conf import settings

logger = logging.getLogger(__name__)


def tick() -> None:
    """The scheduler's tick, in the worker's main process (artstudio/celery.py, JobTick). Its database
    connection is closed before returning: the pool forks new children from this process, and a child must
    never inherit an open connection."""
    from django.db import connections

    try:
        from generator import scheduler

        scheduler.tick()
    except Exception:  # the next tick tries again; a worker must not die of a database blip
        logger.exception("The job scheduler's tick failed")
    try:
        from generator.services import training_reap

        training_reap()
    except Exception:
        logger.exception("Could not look for the training runs of dead workers")
    finally:
        connections.close_all()


# The queues this worker consumes, learnt in the main process before the pool forks its children.
_worker_queues: list[str] = []


def queues() -> list[str]:
    """The queues this worker consumes (every queue in a process that is no worker)."""
    from generator.queues import Queue

    return list(_worker_queues) or list(Queue.values)


@celeryd_after_setup.connect
def remember_queues(sender, instance, **_kwargs) -> None:
    from generator.queues import Queue

    _worker_queues[:] = sorted(instance.app.amqp.queues.consume_from or Queue.values)


@worker_ready.connect
def measure_presets_at_start(**_kwargs) -> None:
    """In the main process of a worker that serves `cpu`, once it is ready: have the presets measured with the
    active networks (the first start, or a preset added while no worker ran). Its connection is closed after: the
    pool forks from this process."""
    from django.db import connections

    from generator.services import presets_measure_later

    if "cpu" not in _worker_queues:
        return
    try:
        presets_measure_later()
    except Exception:  # a worker starts whatever the database or the broker says; the next start asks again
        logger.exception("Could not queue the presets' measures")
    finally:
        connections.close_all()


@worker_process_init.connect
def limit_threads(**_kwargs) -> None:
    """ARTSTUDIO_TORCH_THREADS, in the child (connected first, so the warm-up below runs with it).

    Through the environment, read by torch when it is first imported (in the warm-up thread or the first
    task), never by importing torch here: Celery kills a child that has not reported ready within
    worker_proc_alive_timeout (4 s), and importing torch with both cores busy takes longer than that. The
    writer's worker, the one that sets its threads, had its children killed and forked again in a loop.

    And OpenMP threads that sleep when they wait instead of spinning (unless the person chose otherwise),
    set before the child first imports torch. A painting's threads spin-waiting for a core that the
    writer's worker holds made every painting beside a piece of writing 8x slower: engine p50 5.2 s
    instead of 0.69 s in bench/e2e.py on 2 cores (0.56 s with the writer idle, either way).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    threads = settings.ARTSTUDIO_TORCH_THREADS
    if threads:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # torch's intra-op pool takes its size from these
            os.environ[name] = str(threads)
        torch = sys.modules.get("torch")
        if torch is not None:  # already imported (a pool that does not fork): set it directly, it costs nothing
            torch.set_num_threads(threads)


@worker_process_init.connect
def warm_engine(**_kwargs) -> threading.Thread | None:
    """Load the active versions this worker's queues use, once per worker child, in a thread of the child.

    In a thread, because Celery kills a child that does not report ready within worker_proc_alive_timeout
    (4 s): on a busy machine the warm-up takes longer than that, and blocking here had children killed in a
    loop. A job that arrives meanwhile waits for the network it needs on the registry's lock instead of
    loading it a second time. Runs in the child right after the fork; only in a child is torch imported.
    """
    if not settings.ARTSTUDIO_WARM_ENGINE:
        return None
    thread = threading.Thread(target=_in_own_connection, args=(_warm_up,), name="warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up() -> None:
    try:
        from generator import registry
        from generator.queues import Queue

        registry.warm_up(queues=_worker_queues or Queue.values, device=settings.ARTSTUDIO_DEVICE)
    except Exception:  # a cold start is slower, not broken: the job loads what it needs
        logger.exception("Could not warm the style engine in worker process %s", os.getpid())


def _in_own_connection(work) -> None:
    """A thread's work; the database connection Django opened for the thread is closed after it."""
    from django.db import connection

    try:
        work()
    finally:
        connection.close()
