"""Fair scheduling: style jobs wait in the database, and the broker carries only "run the next job of queue Q".

- A submit commits its row, then sends one such token to the job's queue. A broker that is down or stalled
  costs the page at most ARTSTUDIO_BROKER_SEND_TIMEOUT seconds: the job is saved either way, and waits.
- A worker that takes a token runs the fairest queued job of that queue *at that moment*: the artist whose
  last job started longest ago goes first (round robin over artists), first come first served within one
  artist's jobs. So 200 jobs of one artist hold another's single job back by at most the job running now,
  however many workers there are and without any setting that knows them.
- Tokens are interchangeable. A surplus one (its job was cancelled, or the tick sent one too many) finds
  nothing to claim and does nothing; a missing one (the broker was down, or forgot its messages) is made
  up by the tick: queued jobs minus the tokens waiting in the broker.
- The tick runs in every worker's main process (artstudio/celery.py), every ARTSTUDIO_TICK_SECONDS and once
  at start. It also returns a job whose worker died to the queue (on this host: its process is gone; on any
  host: its heartbeat is older than ARTSTUDIO_HEARTBEAT_TIMEOUT), keeping its place; after
  ARTSTUDIO_MAX_ATTEMPTS starts that ended in a dead process it fails it instead (a poison job).

Celery's own routing and priorities cannot do this: the broker orders messages when they are sent, but
fairness is a question about who is waiting when a worker frees up. The heartbeat is a column rather than
Celery's remote control (`inspect ping`), because a broadcast waits out its timeout for every worker that
does not answer, and it would be asked on every tick of every worker; and a live worker does not say which
job its child holds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from generator.broker import BrokerUnavailable, broker, queue_lengths
from generator.models import Job
from generator.queues import Queue

logger = logging.getLogger(__name__)

STYLE_QUEUES = (Queue.GPU, Queue.CPU)
CANDIDATES = 8  # jobs tried in fair order when another worker claims the first one at the same moment


def this_worker() -> str:
    """What a claim records in Job.worker: the host and pid, which tell the reaper whether it still lives."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- The fair order --------------------------------------------------------------------------------


def fair_order(queue: str):
    """The queue's waiting jobs, the one to start next first.

    Per artist: jobs running now (any queue) first, then when their last job started (never: first); then
    the job that has waited longest. One pick changes the order: the artist just served goes to the back.
    """
    owners_jobs = Job.objects.filter(owner=OuterRef("owner"))
    running = (
        owners_jobs.filter(status=Job.Status.RUNNING).order_by().values("owner").annotate(n=Count("pk")).values("n")
    )
    last_started = owners_jobs.filter(started__isnull=False).order_by("-started").values("started")[:1]
    return (
        Job.objects.filter(status=Job.Status.QUEUED, queue=queue)
        .annotate(owner_running=Coalesce(Subquery(running), 0), owner_last_started=Subquery(last_started))
        .order_by("owner_running", F("owner_last_started").asc(nulls_first=True), "queued_at", "pk")
    )


def claim_next(*, queue: str, worker: str) -> Job | None:
    """Take the fairest queued job of `queue` for `worker`; None when there is none.

    The claim is a conditional UPDATE, so of two workers reaching for the same job one gets it and the other
    tries the next in line.
    """
    now = timezone.now()
    for pk in fair_order(queue).values_list("pk", flat=True)[:CANDIDATES]:
        if claim(pk, worker, now=now):
            return Job.objects.get(pk=pk)
    return None


def claim(pk, worker: str, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(
        Job.objects.filter(pk=pk, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING,
            started=now,
            heartbeat=now,
            attempts=F("attempts") + 1,
            worker=worker,
            progress=0.0,
            error="",
            finished=None,
        )
    )


@dataclass(frozen=True)
class _Owner:
    waiting: int  # queued jobs in the queue
    key: tuple  # the fair order's key: (running, last started, first queued)


def jobs_ahead(job: Job) -> int | None:
    """How many jobs the worker will start before this queued one (None when it is not queued).

    Its own queue in the fair order above: with this job the artist's k-th in line, every other artist gets
    k turns first, one more if they come before this artist in a round. Then the queues that the same worker
    serves (ARTSTUDIO_SHARED_QUEUES): a worker takes from its queues in turn, so each adds at most as many.
    A count only: nothing about whose jobs they are.
    """
    if job.status != Job.Status.QUEUED:
        return None
    owners = _owners(job.queue)
    mine = owners.get(job.owner_id)
    k = (
        Job.objects.filter(status=Job.Status.QUEUED, queue=job.queue, owner=job.owner)
        .filter(Q(queued_at__lt=job.queued_at) | Q(queued_at=job.queued_at, pk__lt=job.pk))
        .count()
    )
    ahead = k
    for owner, other in owners.items():
        if owner != job.owner_id:
            ahead += min(other.waiting, k + (1 if mine is None or other.key < mine.key else 0))
    for queue in shared_queues(job.queue):
        if queue != job.queue:
            ahead += min(Job.objects.filter(status=Job.Status.QUEUED, queue=queue).count(), ahead + 1)
    return ahead


def _owners(queue: str) -> dict[int, _Owner]:
    rows = list(
        Job.objects.filter(status=Job.Status.QUEUED, queue=queue)
        .order_by("queued_at")
        .values_list("owner_id", "queued_at")
    )
    if not rows:
        return {}
    waiting = Counter(owner for owner, _queued in rows)
    first: dict[int, datetime] = {}
    for owner, queued in rows:
        first.setdefault(owner, queued)
    running = Counter(
        Job.objects.filter(status=Job.Status.RUNNING, owner__in=waiting).values_list("owner_id", flat=True)
    )
    last = dict(
        Job.objects.filter(owner__in=waiting, started__isnull=False)
        .order_by()
        .values("owner")
        .annotate(last=Max("started"))
        .values_list("owner", "last")
    )
    never = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return {owner: _Owner(n, (running[owner], last.get(owner) or never, first[owner])) for owner, n in waiting.items()}


def shared_queues(queue: str) -> list[str]:
    """The queues one worker serves together with `queue` (ARTSTUDIO_SHARED_QUEUES), itself included."""
    for group in settings.ARTSTUDIO_SHARED_QUEUES:
        if queue in group:
            return list(group)
    return [queue]


# --- Tokens ------------------------------------------------------------------------------------------


def send_tokens(queue: str, count: int = 1) -> bool:
    """Ask `count` workers of `queue` to run its next job; False (logged) when the broker does not answer
    within ARTSTUDIO_BROKER_SEND_TIMEOUT seconds. The jobs are in the database already: the tick sends
    what could not be sent now."""
    from generator.tasks import run_next_job  # the tasks module imports services: import it late

    if count <= 0:
        return True
    try:
        timeout = settings.ARTSTUDIO_BROKER_SEND_TIMEOUT
        with broker(write=True, timeout=timeout, socket_timeout=timeout) as conn:
            for _n in range(count):
                # No time limits in the message (Celery would put the sender's there): each worker applies its own
                # ARTSTUDIO_TASK_TIME_LIMIT, which a GPU worker may set longer than a CPU one.
                run_next_job.apply_async(
                    args=[queue], queue=queue, connection=conn, retry=False, time_limit=None, soft_time_limit=None
                )
    except BrokerUnavailable as exc:
        logger.warning("Jobs on %s wait for the broker: %s", queue, exc)
        return False
    except Exception:  # a stall past the socket timeout surfaces as whatever the transport raises
        logger.warning("Jobs on %s wait for the broker", queue, exc_info=True)
        return False
    return True


def tick() -> None:
    """Reap the jobs of dead workers, then send the tokens that the waiting jobs lack."""

    reap()
    waiting = dict(
        Job.objects.filter(status=Job.Status.QUEUED, queue__in=STYLE_QUEUES)
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values_list("queue", "n")
    )
    if not waiting:
        return
    try:
        tokens = queue_lengths(queues=list(waiting), timeout=settings.ARTSTUDIO_BROKER_SEND_TIMEOUT)
    except BrokerUnavailable as exc:
        logger.warning("The tick cannot reach the broker: %s", exc)
        return
    for queue, jobs in waiting.items():
        missing = jobs - tokens.get(queue, 0)
        if missing > 0:
            logger.info("%s jobs wait on %s with %s tokens: sending %s", jobs, queue, tokens.get(queue, 0), missing)
            send_tokens(queue, missing)


# --- Dead workers --------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_is_dead(worker: str, heartbeat: datetime | None, *, now: datetime) -> bool:
    """A claim's worker is gone: its process on this host no longer exists, or it has not shown a sign of
    life for ARTSTUDIO_HEARTBEAT_TIMEOUT (any host: a machine that was switched off)."""
    host, _sep, pid = worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
        return True
    return heartbeat is None or heartbeat < now - timedelta(seconds=settings.ARTSTUDIO_HEARTBEAT_TIMEOUT)


def reap(*, now: datetime | None = None) -> dict[str, int]:
    """Jobs running on a dead worker go back to the queue at their old place; a cancelled one ends cancelled;
    one that has started ARTSTUDIO_MAX_ATTEMPTS times fails. Returns how many of each."""
    now = now or timezone.now()
    done: Counter = Counter()
    running = Job.objects.filter(status=Job.Status.RUNNING).values_list(
        "pk", "worker", "heartbeat", "attempts", "cancel_requested"
    )
    for pk, worker, heartbeat, attempts, cancel_requested in running:
        if not worker_is_dead(worker, heartbeat, now=now):
            continue
        # Conditional on the same claim: a worker that is only slow and claims again in between keeps the job.
        same = Job.objects.filter(pk=pk, status=Job.Status.RUNNING, worker=worker)
        if cancel_requested:
            done["cancelled"] += same.update(status=Job.Status.CANCELLED, finished=now)
        elif attempts >= settings.ARTSTUDIO_MAX_ATTEMPTS:
            failed = same.update(
                status=Job.Status.FAILED,
                finished=now,
                error=_(
                    "The painting process stopped while working on this picture %(n)s times, so it was not tried "
                    "again. Please try a smaller output size, fast mode, or another photo."
                )
                % {"n": attempts},
            )
            if failed:  # in its versions' history, as a job that failed in the worker is
                _record_failure(pk, now)
            done["failed"] += failed
        else:
            done["requeued"] += same.update(
                status=Job.Status.QUEUED, progress=0.0, worker="", started=None, heartbeat=None
            )
    if done:
        logger.warning("Jobs of dead workers: %s", dict(done))
    return dict(done)


class Heartbeat:
    """While a job runs, a thread stamps Job.heartbeat every ARTSTUDIO_HEARTBEAT_TIMEOUT / 4 seconds, so the
    reaper can tell a slow job from a dead worker on another machine. `model`: another row that runs in a worker
    the same way (a training run: status "running", worker, heartbeat)."""

    def __init__(self, pk, worker: str, *, model=Job):
        self.pk, self.worker, self.model = pk, worker, model
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{pk}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        every = settings.ARTSTUDIO_HEARTBEAT_TIMEOUT / 4
        try:
            while not self._stop.wait(every):
                try:
                    self.model.objects.filter(pk=self.pk, status="running", worker=self.worker).update(
                        heartbeat=timezone.now()
                    )
                except Exception:  # a database blip: the next beat tries again; the reaper allows three misses
                    logger.warning(
                        "Could not stamp the heartbeat of %s %s", self.model.__name__, self.pk, exc_info=True
                    )
        finally:
            connection.close()  # this thread's own connection


def _record_failure(job_id, now) -> None:
    from generator.models import ModelUse
    from generator.services import model_use_record  # (the services import this module)

    job = Job.objects.filter(pk=job_id).only("started").first()
    if job is not None:
        model_use_record(
            versions=job.model_versions.all(),
            purpose=ModelUse.Purpose.PAINTING,
            outcome=ModelUse.Outcome.FAILED,
            started=job.started,
            finished=now,
        )
