"""How fast this machine is now, measured once per run, for the tests whose waits and time limits must follow it.

No test's verdict may depend on the machine's speed (issue 18: on a machine 3.7x slower than the one its
constants came from, a redelivered job outran a worker's fixed 30 s soft limit). So the tests time their slow
job once, here, and derive from that: a limit a job must stay under (many slow jobs), a limit a job must
outrun (a fraction of one), and how long to wait for something before failing (`scaled`).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The tests' slow job, as a studio form sends it: quality mode at 512 px, on the `chelsea` fixture's photo.
SLOW_JOB = {"preset": "udnie", "mode": "quality", "max_side": 512}
PHOTO = REPO / "generator" / "ml" / "assets" / "photos" / "chelsea.png"

# Seconds the slow job took on the busy 2-core machine where the tests' fixed waits were sized.
SIZED_ON = 20.0

# The painting in a process set up as a worker's pool child is (generator.worker_process.limit_threads): in a process
# whose OpenMP threads spin while they wait, the same painting took 10x as long on a busy machine.
PAINT = """
import sys, time
from generator.ml.engine import stylize
from tests.shared_weights import shipped_models

photo, style, mode, side = sys.argv[1:]
began = time.monotonic()  # loading the networks included, as in a worker's first job
stylize(photo, style, models=shipped_models(), mode=mode, max_side=int(side))
print(time.monotonic() - began)
"""


@functools.cache
def slow_job_seconds() -> float:
    """How long the slow job paints for on this machine now (once per run; call it while no worker runs).

    What a worker adds around the painting (the database, saving the pictures) is left out: a limit derived
    from it to be outrun is then too low rather than too high, and the others are generous multiples.
    """
    from tests.shared_weights import shipped_models

    shipped_models()  # exported once per run, by this process
    job = SLOW_JOB
    done = subprocess.run(
        [sys.executable, "-c", PAINT, str(PHOTO), job["preset"], job["mode"], str(job["max_side"])],
        cwd=REPO,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
        capture_output=True,
        text=True,
        timeout=1200,  # a hung engine: the painting takes seconds, a minute or two on a very slow machine
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return float(done.stdout.split()[-1])


def scaled(seconds: float) -> float:
    """A wait sized on the SIZED_ON machine, as much longer as this machine is slower (never shorter)."""
    return seconds * max(1.0, slow_job_seconds() / SIZED_ON)
