from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from generator.ml import registry, weights
from generator.ml.errors import StyleError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("weights")
    weights.import_weights(directory, names=["multistyle26", "magenta_transformer"])
    return directory


def test_import_writes_safetensors_whose_sha256_the_manifest_records(imported):
    manifest = json.loads((imported / "manifest.json").read_text())
    assert set(manifest) == {"multistyle26", "magenta_transformer"}
    for entry in manifest.values():
        assert weights.file_sha256(imported / entry["file"]) == entry["sha256"]
    assert manifest["multistyle26"]["parameters"] == 166_104
    assert not list(imported.glob("*.part")), "an import leaves no partial files"


def test_a_tampered_weights_file_is_refused(imported, tmp_path):
    for f in imported.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    target = tmp_path / "multistyle26.safetensors"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(StyleError, match="sha256"):
        weights.load_state("multistyle26", tmp_path)


def test_missing_weights_are_imported_on_first_use(tmp_path):
    state, sha = weights.load_state("multistyle26", tmp_path)
    assert "contract.0.conv.conv.weight" in state
    assert sha == weights.read_manifest(tmp_path)["multistyle26"]["sha256"]


def test_models_load_once_per_process_and_are_keyed_by_sha256():
    cpu = registry.resolve_device("cpu")
    first, ref = registry.get("multistyle26", cpu)
    again, ref_again = registry.get("multistyle26", cpu)
    assert first is again and ref == ref_again
    assert ref.sha256 == weights.read_manifest()["multistyle26"]["sha256"]


def test_asking_for_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(StyleError, match="CUDA"):
        registry.resolve_device("cuda")
    assert registry.resolve_device("auto").type == "cpu"
    with pytest.raises(StyleError, match="Unknown device"):
        registry.resolve_device("tpu")


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_the_engine_never_imports_django():
    out = _run(
        "import pkgutil, importlib, sys, generator.ml as m\n"
        "for mod in pkgutil.walk_packages(m.__path__, 'generator.ml.'):\n"
        "    importlib.import_module(mod.name)\n"
        "print('django' in sys.modules)"
    )
    assert out.strip() == "False"


def test_stylizing_needs_neither_onnx_nor_onnxruntime():
    weights.ensure_weights()  # the import step, which does read the ONNX files, happens first
    out = _run(
        "import sys\n"
        "from generator.ml.engine import stylize\n"
        "stylize('generator/ml/assets/photos/chelsea.png', 'starry-night', max_side=128)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime')))"
    )
    assert out.strip() == "[]"
