"""CI runs the README's test command, nothing less."""

from __future__ import annotations

import re

from artstudio.serve import REPO


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Test", 1)[1]
    command = re.search(r"```sh\n(.+?)\n```", section, flags=re.DOTALL).group(1).strip()
    ci_lines = [
        line
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]

    assert ci_lines == [command]
    assert ".ci/ensure-chromium" in command  # the browser tests need Chromium on the CI machine
