"""Load: the studio exactly as `artstudio-serve` runs it, under many artists at once.

It starts the launcher on a temporary state folder (SQLite in WAL mode, the embedded Valkey, one Celery
worker, gunicorn), signs up 10 artists, then:

1. **Uploads**: 50 uploads at once, 5 from each artist (fast mode, 512 px). Prints the upload request
   time (p50/p95), how long until all 50 were painted, and from the database: jobs done, lost (not
   succeeded), duplicated (more than one artwork for a job, or an artwork without its job).
2. **Pages**: Locust, a real load generator, with 20 simulated artists for 30 s on the gallery, the job
   page and the job status endpoint the job page polls. Prints requests, failures and p50/p95 per page.
3. **Fairness**: one artist queues 200 jobs, then another submits 1. Prints how long the second waited
   to start, against one job's time and against first come first served (the baseline, from the same
   run: the jobs that were waiting ahead of it, times the p50 job time measured in step 1), and how many
   of the 200 started between its submit and its start (the target is 0).

The studio runs with quotas and rate limits raised, as an admin would set them for such artists:
the defaults (20 jobs waiting, 20 a minute) would refuse step 3's 200 jobs, and say so.

    pip install -e '.[bench]'   # Locust
    python bench/load.py
    python bench/load.py --seconds 10 --many 50
"""

from __future__ import annotations

# Locust runs on gevent, which patches the standard library's sockets and threads: before anything else.
from locust import HttpUser, between, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import random
import re
import shutil
import sqlite3
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import PASSWORD, PHOTO, ROOT, Client, nearest_rank, start_studio, state_folder, stop_studio  # noqa: E402

sys.path.insert(0, str(ROOT))
from artstudio.serve import free_port  # noqa: E402

ARTISTS = 10
UPLOADS_EACH = 5
DONE_TIMEOUT = 900
ADMIN_SET = {  # quotas and limits raised for these artists, as an admin would (see the docstring)
    "ARTSTUDIO_QUOTA_ACTIVE_JOBS": "1000",
    "ARTSTUDIO_QUOTA_JOBS_PER_DAY": "1000",
    "ARTSTUDIO_RATE_JOBS": "1000/m",
}


class Artist:
    def __init__(self, base: str, name: str):
        self.name = name
        self.client = Client(base)
        token = self.client.csrf("/accounts/signup/")
        landed = self.client.post_form(
            "/accounts/signup/",
            {
                "csrfmiddlewaretoken": token,
                "username": name,
                "email": f"{name}@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert landed.endswith("/studio/"), f"sign-up of {name} went to {landed}"
        self.token = self.client.csrf("/studio/")  # logging in rotates the CSRF secret

    @property
    def session(self) -> str:
        return next(c.value for c in self.client.jar if c.name == "sessionid")

    def upload(self) -> tuple[str, float]:
        """(job id, seconds the upload request took)."""
        fields = {
            "csrfmiddlewaretoken": self.token,
            "style_source": "preset",
            "style_preset": "pop-outline",
            "strength": "1",
            "brush": "1",
            "max_side": "512",
            "mode": "fast",
        }
        began = time.perf_counter()
        location = self.client.upload("/studio/", fields, "photo", PHOTO)
        return re.search(r"/jobs/([0-9a-f-]{36})/", location).group(1), time.perf_counter() - began


def database(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data_dir / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)


def hexed(job_ids: list[str]) -> list[str]:
    return [uuid.UUID(job).hex for job in job_ids]  # how SQLite stores a UUIDField


def statuses(data_dir: Path, job_ids: list[str]) -> dict[str, int]:
    marks = ",".join("?" * len(job_ids))
    with database(data_dir) as db:
        return dict(
            db.execute(
                f"SELECT status, count(*) FROM generator_job WHERE id IN ({marks}) GROUP BY status", hexed(job_ids)
            ).fetchall()
        )


def wait_done(data_dir: Path, job_ids: list[str]) -> dict[str, int]:
    deadline = time.monotonic() + DONE_TIMEOUT
    while True:
        counts = statuses(data_dir, job_ids)
        if counts.get("queued", 0) + counts.get("running", 0) == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --- 1. uploads ------------------------------------------------------------------------------------


def uploads(artists: list[Artist], data_dir: Path) -> float:
    """Step 1; returns the p50 engine seconds a job took (the job time the fairness step compares with)."""
    print(f"\n1. {ARTISTS * UPLOADS_EACH} uploads at once from {ARTISTS} artists ({UPLOADS_EACH} each)")
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=ARTISTS * UPLOADS_EACH) as pool:
        sent = list(pool.map(lambda artist: artist.upload(), [a for a in artists for _ in range(UPLOADS_EACH)]))
    submitted = time.perf_counter() - began
    job_ids = [job for job, _ in sent]
    request = [seconds for _, seconds in sent]
    counts = wait_done(data_dir, job_ids)
    painted = time.perf_counter() - began
    with database(data_dir) as db:
        marks = ",".join("?" * len(job_ids))
        artworks = db.execute(
            f"SELECT job_id, seconds FROM generator_artwork WHERE job_id IN ({marks})", hexed(job_ids)
        ).fetchall()
        orphans = db.execute(
            "SELECT count(*) FROM generator_artwork a LEFT JOIN generator_job j ON j.id = a.job_id WHERE j.id IS NULL"
        ).fetchone()[0]
    per_job = {}
    for job, _seconds in artworks:
        per_job[job] = per_job.get(job, 0) + 1
    done = counts.get("succeeded", 0)
    duplicated = sum(n - 1 for n in per_job.values()) + orphans
    engine = [seconds for _job, seconds in artworks]
    print(
        f"   upload request  p50 {nearest_rank(request, 0.5) * 1000:.0f} ms  p95 "
        f"{nearest_rank(request, 0.95) * 1000:.0f} ms  max {max(request) * 1000:.0f} ms "
        f"(all {len(sent)} answered in {submitted:.1f} s)"
    )
    print(f"   all painted in {painted:.1f} s; engine per job p50 {nearest_rank(engine, 0.5):.2f} s")
    print(
        f"   jobs {len(job_ids)}: done {done}, lost {len(job_ids) - done}, duplicated {duplicated}  "
        f"{'PASS' if done == len(job_ids) and duplicated == 0 else 'FAIL'}"
    )
    return nearest_rank(engine, 0.5)


# --- 2. pages under Locust ----------------------------------------------------------------------


def pages(base: str, artists: list[Artist], data_dir: Path, *, seconds: float, users: int) -> None:
    with database(data_dir) as db:
        jobs_of = {}
        for job, owner in db.execute(
            "SELECT j.id, u.username FROM generator_job j JOIN auth_user u ON u.id = j.owner_id"
        ).fetchall():
            jobs_of.setdefault(owner, []).append(str(uuid.UUID(job)))
    sessions = [(a.session, jobs_of.get(a.name, [])) for a in artists]

    class Viewer(HttpUser):
        host = base
        wait_time = between(0.1, 0.5)

        def on_start(self) -> None:
            self.session, self.jobs = random.choice(sessions)  # signed in as one of the artists
            self.client.cookies.set("sessionid", self.session)

        @task(2)
        def gallery(self) -> None:
            self.client.get("/gallery/", name="/gallery/")

        @task(1)
        def job_page(self) -> None:
            self.client.get(f"/jobs/{random.choice(self.jobs)}/", name="/jobs/<id>/")

        @task(3)
        def job_status(self) -> None:  # what an open job page asks every second
            self.client.get(f"/jobs/{random.choice(self.jobs)}/status/", name="/jobs/<id>/status/")

    print(f"\n2. Locust: {users} artists for {seconds:g} s on the gallery, the job page and its status endpoint")
    environment = Environment(user_classes=[Viewer])
    runner = environment.create_local_runner()
    runner.start(user_count=users, spawn_rate=users)
    time.sleep(seconds)  # gevent's sleep: the simulated artists run meanwhile
    runner.quit()
    stats = environment.stats
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        p50, p95 = entry.get_response_time_percentile(0.5), entry.get_response_time_percentile(0.95)
        print(
            f"   {entry.name:<22} {entry.num_requests:>6} requests  {entry.num_failures} failed  "
            f"p50 {p50:.0f} ms  p95 {p95:.0f} ms"
        )
    total = stats.total
    print(
        f"   total {total.num_requests} requests, {total.total_rps:.0f}/s, {total.num_failures} errors  "
        f"{'PASS' if total.num_failures == 0 and total.num_requests else 'FAIL'}"
    )
    for error in stats.errors.values():
        print(f"   error: {error.method} {error.name}: {error.error} ({error.occurrences}x)")


# --- 3. fairness --------------------------------------------------------------------------------


def fairness(base: str, data_dir: Path, *, many: int, job_seconds: float) -> None:
    print(f"\n3. Fairness: one artist queues {many} jobs, then another submits 1")
    busy, single = Artist(base, "busy"), Artist(base, "single")
    with ThreadPoolExecutor(max_workers=8) as pool:
        queued = [job for job, _ in pool.map(lambda _n: busy.upload(), range(many))]
    job, _seconds = single.upload()
    deadline = time.monotonic() + DONE_TIMEOUT
    while statuses(data_dir, [job]).get("succeeded", 0) == 0:
        if time.monotonic() > deadline:
            sys.exit(f"the single job {job} did not finish")
        time.sleep(0.2)
    with database(data_dir) as db:
        queued_at, started, finished = (
            when(v)
            for v in db.execute(
                "SELECT queued_at, started, finished FROM generator_job WHERE id = ?", hexed([job])
            ).fetchone()
        )
        rows = db.execute(
            f"SELECT queued_at, started FROM generator_job WHERE id IN ({','.join('?' * many)})", hexed(queued)
        ).fetchall()
    busy_jobs = [(when(q), when(s)) for q, s in rows]
    ahead_fifo = sum(1 for q, s in busy_jobs if q < queued_at and (s is None or s > queued_at))
    jumped = sum(1 for _q, s in busy_jobs if s is not None and queued_at < s < started)
    waited = (started - queued_at).total_seconds()
    fifo = ahead_fifo * job_seconds
    done = (finished - queued_at).total_seconds()
    print(
        f"   the single job waited {waited:.2f} s to start and was done {done:.2f} s after its submit; "
        f"one job takes {job_seconds:.2f} s (engine p50, step 1)"
    )
    print(
        f"   first come first served would have put {ahead_fifo} jobs ahead of it: about {fifo:.0f} s "
        f"({fifo / max(waited, 1e-3):.0f}x longer)"
    )
    print(
        f"   jobs of the busy artist started between its submit and its start: {jumped}  "
        f"{'PASS' if jumped == 0 else 'FAIL'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="how long Locust runs (step 2)")
    parser.add_argument("--users", type=int, default=20, help="Locust's simulated artists (step 2)")
    parser.add_argument("--many", type=int, default=200, help="jobs the busy artist queues (step 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary state folder")
    args = parser.parse_args()

    data_dir = state_folder("load")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(
        f"starting artstudio-serve on 127.0.0.1:{port}, state in {data_dir} (SQLite WAL, embedded Valkey, "
        f"1 worker); {', '.join(f'{k}={v}' for k, v in ADMIN_SET.items())}"
    )
    began = time.perf_counter()
    proc, log = start_studio(data_dir, port, ADMIN_SET)
    print(f"ready in {time.perf_counter() - began:.1f} s")
    try:
        artists = [Artist(base, f"artist{n}") for n in range(ARTISTS)]
        job_seconds = uploads(artists, data_dir)
        pages(base, artists, data_dir, seconds=args.seconds, users=args.users)
        fairness(base, data_dir, many=args.many, job_seconds=job_seconds)
    finally:
        stop_studio(proc)
    if args.keep:
        print(f"state folder kept: {data_dir} (log: {log})")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
