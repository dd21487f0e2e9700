from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from generator.ml import files, loading, weights
from generator.ml.errors import StyleError
from generator.ml.loading import ModelSet, Weights

ROOT = Path(__file__).resolve().parents[2]
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> ModelSet:
    return weights.shipped(tmp_path_factory.mktemp("weights"), kinds=["multistyle26", "magenta_transformer"])


def test_export_writes_safetensors_whose_sha256_the_model_set_records(exported):
    assert set(exported) == {("multistyle26", ""), ("magenta_transformer", "")}
    for w in exported.values():
        assert files.file_sha256(w.path) == w.sha256
    state = files.load_state(exported["multistyle26", ""].path, exported["multistyle26", ""].sha256)
    assert sum(t.numel() for t in state.values()) == 166_104
    assert not list(exported["multistyle26", ""].path.parent.glob("*.part")), "an export leaves no partial files"


def test_the_export_is_the_same_file_every_time(exported, tmp_path):
    again = weights.export("multistyle26", tmp_path / "again.safetensors")
    assert again.sha256 == exported["multistyle26", ""].sha256


def test_a_committed_head_is_copied_afresh_so_a_retrained_one_is_never_hidden_by_an_old_copy(tmp_path):
    stale = tmp_path / "text_head-mood.safetensors"
    stale.write_bytes(b"an older head")
    exports = weights.shipped(tmp_path, kinds=["multistyle26", "text_head"])

    committed = files.file_sha256(weights.HEADS_DIR / "mood.safetensors")
    assert exports["text_head", "mood"].sha256 == committed == files.file_sha256(stale)
    kept = tmp_path / "multistyle26.safetensors"
    written = kept.stat().st_mtime_ns
    weights.shipped(tmp_path, kinds=["multistyle26"])
    assert kept.stat().st_mtime_ns == written  # a wheel's export is kept: it never changes


def test_a_tampered_weights_file_is_refused(exported, tmp_path):
    source = exported["multistyle26", ""]
    target = tmp_path / "multistyle26.safetensors"
    data = bytearray(source.path.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    loading.clear()  # a network already loaded is not read again
    with pytest.raises(StyleError, match="sha256"):
        loading.load(Weights("multistyle26", target, source.sha256), CPU)
    with pytest.raises(StyleError, match="missing"):
        loading.load(Weights("multistyle26", tmp_path / "gone.safetensors", source.sha256), CPU)


def test_models_load_once_per_process_and_a_new_sha256_is_a_new_network(exported, tmp_path):
    first, ref = exported.get_net("multistyle26", CPU)
    again, ref_again = exported.get_net("multistyle26", CPU)
    assert first is again and ref == ref_again
    assert ref.sha256 == exported["multistyle26", ""].sha256
    # Another version of the same kind (different bytes, so a different sha) loads beside it
    state = files.load_state(exported["multistyle26", ""].path, ref.sha256)
    state = {k: v * 1.01 for k, v in state.items()}
    other = Weights("multistyle26", tmp_path / "v2.safetensors", files.save_state(state, tmp_path / "v2.safetensors"))
    second = loading.load(other, CPU)
    assert second is not first and loading.load(other, CPU) is second
    assert {("multistyle26", ref.sha256, "cpu"), ("multistyle26", other.sha256, "cpu")} <= set(loading.loaded())


def test_the_cache_forgets_the_oldest_networks_past_its_size(exported, monkeypatch):
    monkeypatch.setattr(loading, "CACHE_SIZE", 1)
    loading.clear()
    exported.get_net("multistyle26", CPU)
    exported.get_net("magenta_transformer", CPU)
    assert [kind for kind, _, _ in loading.loaded()] == ["magenta_transformer"]


def test_asking_for_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(StyleError, match="CUDA"):
        loading.resolve_device("cuda")
    assert loading.resolve_device("auto").type == "cpu"
    with pytest.raises(StyleError, match="Unknown device"):
        loading.resolve_device("tpu")


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_the_engine_never_imports_django():
    out = _run(
        "import pkgutil, importlib, sys, generator.ml as m\n"
        "for mod in pkgutil.walk_packages(m.__path__, 'generator.ml.'):\n"
        "    importlib.import_module(mod.name)\n"
        "print('django' in sys.modules)"
    )
    assert out.strip() == "False"


def test_the_kinds_table_imports_no_torch():
    # The web process reads it for its choices; it must stay light.
    assert _run("import sys, generator.ml.kinds; print('torch' in sys.modules)").strip() == "False"


def test_the_engine_reads_no_environment_variable():
    for path in (ROOT / "generator" / "ml").rglob("*.py"):
        assert "os.environ" not in path.read_text() and "getenv" not in path.read_text(), path


def test_stylizing_needs_neither_onnx_nor_onnxruntime(exported):
    from tests.shared_weights import SHIPPED, shipped_models

    shipped_models()  # the export, which does read the ONNX files, happens first
    out = _run(
        "import sys\n"
        "from pathlib import Path\n"
        "from generator.ml.engine import stylize\n"
        "from generator.ml.weights import shipped\n"
        f"models = shipped(Path({str(SHIPPED)!r}))\n"
        "stylize('generator/ml/assets/photos/chelsea.png', 'starry-night', models=models, max_side=128)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime')))"
    )
    assert out.strip() == "[]"
