"""artstudio-stylize: bad arguments are answered before torch is imported; good ones paint."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from tests.shared_weights import SHIPPED

# Runs main() in a fresh interpreter and reports whether torch was imported on the way.
PROBE = """
import json, sys
from generator.ml.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "torch": "torch" in sys.modules}))
"""


def stylize(*args: str) -> tuple[dict, str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jpg", "{out}", "--style", "starry-night"], "There is no photo at missing.jpg."),
        (["{photo}", "{out}", "--style", "no-such-preset"], "'no-such-preset' is neither a preset"),
        (["{photo}", "{out}", "--style", "starry-night", "--strength", "1.5"], "Strength must be between 0 and 1"),
        (["{photo}", "{out}", "--style", "starry-night", "--size", "9000"], "from 64 to 4096"),
        (["{photo}", "{out}", "--style", "starry-night", "--brush", "0.1"], "Brush size must be between 0.25 and 4"),
        (["{photo}", "{out}", "--style", "starry-night=-1"], "Blend weights must be zero or more"),
        (["{photo}", "{out}", "--style", "starry-night=0"], "needs a weight above zero"),
        (["{photo}", "{folder}/out.gif", "--style", "starry-night"], "Write the result to a .png"),
        (["{photo}", "{folder}/nowhere/out.png", "--style", "starry-night"], "does not exist"),
    ],
)
def test_a_bad_argument_is_answered_before_torch_is_imported(tmp_path, chelsea, args, message):
    out = tmp_path / "out.png"
    filled = [a.format(photo=chelsea, out=out, folder=tmp_path) for a in args]

    report, stderr = stylize(*filled)

    assert report == {"status": 2, "torch": False}
    assert message in stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.slow
def test_good_arguments_paint_a_picture_of_the_asked_size(tmp_path, chelsea):
    out = tmp_path / "painted.png"

    report, stderr = stylize(str(chelsea), str(out), "--style", "udnie", "--size", "256", "--weights", str(SHIPPED))

    assert report == {"status": 0, "torch": True}, stderr
    with Image.open(out) as img:
        assert max(img.size) == 256
