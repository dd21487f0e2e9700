"""Community fast-neural-style checkpoints: the network that runs them and the reader that vets them."""

from __future__ import annotations

import builtins
import io
import pickle
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import safetensors.torch
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from generator.ml.checkpoints import SINGLE_STYLE_IGNORE, CheckpointError, fit_state_dict, read_state_dict
from generator.ml.errors import StyleError
from generator.ml.nets.layers import shared_stats
from generator.ml.nets.multistyle import MultiStyleNet
from generator.ml.nets.transformer_net import TransformerNet

MB = 1024**2
LIMIT = 64 * MB
ROOT = Path(__file__).resolve().parents[2]
# Every instance norm of the network and its channels: what old checkpoints kept running stats for.
NORMS = {"in1": 32, "in2": 64, "in3": 128, "in4": 64, "in5": 32} | {
    f"res{i}.in{j}": 128 for i in range(1, 6) for j in (1, 2)
}


# A straightforward TransformerNet after pytorch/examples, on nn.InstanceNorm2d: 0..255 in, 0..255 out.
class RefConv(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1, upsample=False):
        super().__init__()
        self.upsample = upsample
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x):
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv2d(self.pad(x))


class RefResidual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.in1 = RefConv(c, c, 3), nn.InstanceNorm2d(c, affine=True)
        self.conv2, self.in2 = RefConv(c, c, 3), nn.InstanceNorm2d(c, affine=True)

    def forward(self, x):
        return x + self.in2(self.conv2(torch.relu(self.in1(self.conv1(x)))))


class RefTransformerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.in1 = RefConv(3, 32, 9), nn.InstanceNorm2d(32, affine=True)
        self.conv2, self.in2 = RefConv(32, 64, 3, 2), nn.InstanceNorm2d(64, affine=True)
        self.conv3, self.in3 = RefConv(64, 128, 3, 2), nn.InstanceNorm2d(128, affine=True)
        self.res1, self.res2, self.res3, self.res4, self.res5 = (RefResidual(128) for _ in range(5))
        self.deconv1, self.in4 = RefConv(128, 64, 3, upsample=True), nn.InstanceNorm2d(64, affine=True)
        self.deconv2, self.in5 = RefConv(64, 32, 3, upsample=True), nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = RefConv(32, 3, 9)

    def forward(self, x):
        y = torch.relu(self.in1(self.conv1(x)))
        y = torch.relu(self.in2(self.conv2(y)))
        y = torch.relu(self.in3(self.conv3(y)))
        y = self.res5(self.res4(self.res3(self.res2(self.res1(y)))))
        y = torch.relu(self.in4(self.deconv1(y)))
        y = torch.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


class TouchesAFile:
    """Unpickling this creates `marker`: a stand-in for a checkpoint that runs code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    net = TransformerNet()
    with torch.no_grad():  # norms away from their identity init, so the comparison means something
        for name, p in net.named_parameters():
            if name.endswith(("in1.weight", "in2.weight", "in3.weight", "in4.weight", "in5.weight")):
                p.uniform_(0.5, 1.5)
            elif ".in" in name or name.startswith("in"):
                p.normal_(0.0, 0.2)
    return net.state_dict()


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    """Saved exactly the way pytorch/examples' fast_neural_style saves a trained model."""
    path = tmp_path / "candy.pth"
    torch.save(TransformerNet().state_dict(), path)
    return path


@pytest.fixture
def old_checkpoint(tmp_path) -> Path:
    """The pre-zip serialisation, with the running stats that InstanceNorm2d used to keep."""
    state = TransformerNet().state_dict()
    for norm, channels in NORMS.items():
        state[f"{norm}.running_mean"] = torch.zeros(channels)
        state[f"{norm}.running_var"] = torch.ones(channels)
    state["in1.num_batches_tracked"] = torch.tensor(0)
    state["res2.in2.num_batches_tracked"] = torch.tensor(0)
    path = tmp_path / "mosaic.model"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    return path


def _saved(tmp_path: Path, obj: object, name: str = "weights.pth") -> Path:
    path = tmp_path / name
    torch.save(obj, path)
    return path


def _fits(state: dict[str, torch.Tensor]) -> TransformerNet:
    net = TransformerNet()
    net.load_state_dict(fit_state_dict(net, state, ignore=SINGLE_STYLE_IGNORE))
    return net.eval()


# The network


def test_the_network_saves_the_keys_of_pytorch_examples():
    assert list(TransformerNet().state_dict()) == list(RefTransformerNet().state_dict())


def test_the_network_matches_a_plain_instance_norm_implementation(state):
    ref = RefTransformerNet().eval()
    ref.load_state_dict(state)
    net = TransformerNet().eval()
    net.load_state_dict(state)
    x = torch.rand(2, 3, 64, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = ref(x * 255)  # the reference works on 0..255 pixels
        got = net(x, None) * 255
    assert got.shape == (2, 3, 64, 96)
    assert expected.abs().max() > 1.0, "a degenerate output would prove nothing"
    assert (got - expected).abs().max().item() < 1e-4


def test_the_network_keeps_the_size_of_a_picture_that_is_not_a_multiple_of_4(state):
    net = TransformerNet().eval()
    net.load_state_dict(state)
    with torch.no_grad():
        assert net(torch.rand(1, 3, 30, 45)).shape == (1, 3, 30, 45)


def test_recorded_statistics_replayed_on_the_same_picture_change_nothing(state):
    net = TransformerNet().eval()
    net.load_state_dict(state)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        live = net(x)
        with shared_stats(net, lambda: net(x)):
            replayed = net(x)
    torch.testing.assert_close(replayed, live)


# Reading and fitting good checkpoints


def test_a_checkpoint_saved_by_pytorch_examples_reads_fits_and_paints(checkpoint):
    net = _fits(read_state_dict(checkpoint, max_bytes=LIMIT))
    with torch.no_grad():
        out = net(torch.rand(1, 3, 64, 64), None)
    assert out.shape == (1, 3, 64, 64)
    assert torch.isfinite(out).all()


def test_an_old_format_checkpoint_with_running_stats_reads_fits_and_paints(old_checkpoint):
    assert not old_checkpoint.read_bytes().startswith(b"PK"), "the fixture must be the legacy format"
    state = read_state_dict(old_checkpoint, max_bytes=LIMIT)
    net = _fits(state)
    with torch.no_grad():
        out = net(torch.rand(1, 3, 64, 64), None)
    assert out.shape == (1, 3, 64, 64)
    assert torch.isfinite(out).all()


def test_the_single_style_patterns_drop_every_norms_running_stats_and_nothing_else(old_checkpoint):
    state = read_state_dict(old_checkpoint, max_bytes=LIMIT)
    assert "res4.in2.running_var" in state and "in3.running_mean" in state
    fitted = fit_state_dict(TransformerNet(), state, ignore=SINGLE_STYLE_IGNORE)
    assert list(fitted) == list(TransformerNet().state_dict())
    with pytest.raises(CheckpointError, match=r"unexpected 32 keys \(in1\.running_mean, .* and 24 more\)"):
        fit_state_dict(TransformerNet(), state)  # without the patterns they do not fit


def test_a_safetensors_file_reads_and_half_precision_comes_back_as_float32(tmp_path, state):
    path = tmp_path / "no-extension"
    save_file({k: v.half() for k, v in state.items()}, path)
    got = read_state_dict(path, max_bytes=LIMIT)
    assert sorted(got) == sorted(state)  # safetensors stores keys sorted
    assert all(v.dtype == torch.float32 and v.is_contiguous() for v in got.values())
    torch.testing.assert_close(got["in1.weight"], state["in1.weight"].half().float())
    _fits(got)


def test_a_state_dict_wrapped_with_training_state_is_accepted(tmp_path, state):
    path = _saved(tmp_path, {"epoch": 2, "state_dict": state, "optimizer": {"lr": 1e-3}})
    got = read_state_dict(path, max_bytes=LIMIT)
    assert list(got) == list(state)
    _fits(got)


def test_a_data_parallel_checkpoint_loses_its_module_prefix(tmp_path, state):
    path = _saved(tmp_path, {f"module.{k}": v for k, v in state.items()})
    got = read_state_dict(path, max_bytes=LIMIT)
    assert list(got) == list(state)
    torch.testing.assert_close(_fits(got).state_dict()["conv1.conv2d.weight"], state["conv1.conv2d.weight"])


# Files that are refused


@pytest.mark.parametrize("how", ["zip", "legacy", "plain pickle"])
def test_it_refuses_a_pickle_that_runs_code(tmp_path, how):
    marker = tmp_path / "pwned"
    payload = {"conv1.conv2d.weight": TouchesAFile(marker)}
    path = tmp_path / "evil.pth"
    if how == "plain pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path, _use_new_zipfile_serialization=how == "zip")

    with pytest.raises(CheckpointError, match="contains code or objects other than tensors"):
        read_state_dict(path, max_bytes=LIMIT)
    assert not marker.exists()

    # The payload is live: an unsafe load does run it, so the refusal above is what kept it out.
    with open(path, "rb") as f:
        pickle.load(f) if how == "plain pickle" else torch.load(f, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("how", ["zip", "legacy"])
def test_it_refuses_a_truncated_torch_checkpoint(tmp_path, state, how):
    buffer = io.BytesIO()
    torch.save(state, buffer, _use_new_zipfile_serialization=how == "zip")
    data = buffer.getvalue()
    path = tmp_path / "cut.pth"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged or cut short"):
        read_state_dict(path, max_bytes=LIMIT)


@pytest.mark.parametrize("keep", ["half", "within the header"])
def test_it_refuses_a_truncated_safetensors_file(tmp_path, state, keep):
    whole = tmp_path / "whole.safetensors"
    save_file(state, whole)
    data = whole.read_bytes()
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[: len(data) // 2] if keep == "half" else data[:100])
    with pytest.raises(CheckpointError, match="damaged or cut short"):
        read_state_dict(path, max_bytes=LIMIT)


def test_it_refuses_a_file_over_the_limit_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.pth"
    with open(path, "wb") as f:
        f.truncate(2 * 1024**3)  # sparse: takes no disk space

    def never(*args, **kwargs):
        raise AssertionError("the file was opened")

    for target, name in [
        (builtins, "open"),
        (io, "open"),
        (Path, "open"),
        (Path, "read_bytes"),
        (torch, "load"),
        (safetensors.torch, "load_file"),
    ]:
        monkeypatch.setattr(target, name, never)
    with pytest.raises(CheckpointError) as caught:
        read_state_dict(path, max_bytes=100 * MB)
    monkeypatch.undo()
    assert "2.0 GB" in str(caught.value)
    assert "at most 100.0 MB" in str(caught.value)


def test_it_refuses_an_empty_file(tmp_path):
    path = tmp_path / "empty.pth"
    path.touch()
    with pytest.raises(CheckpointError, match="empty"):
        read_state_dict(path, max_bytes=LIMIT)


def _zip_of_a_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def _random_bytes() -> bytes:
    data = random.Random(0).randbytes(4096)
    assert data[0] != 0x80 and data[8:9] != b"{" and not data.startswith(b"PK")
    return data


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("noise.pth", _random_bytes()),
        ("login.safetensors", b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body></body></html>\n"),
        ("notes.pth", b"These are not weights.\n" * 10),
        ("report.pth", _zip_of_a_document()),
        ("numbers.pkl", pickle.dumps({"weight": [1.0, 2.0]}, protocol=2)),
    ],
)
def test_it_refuses_a_file_that_is_not_weights(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a PyTorch or safetensors weights file"):
        read_state_dict(path, max_bytes=LIMIT)


def test_it_refuses_an_entry_that_is_not_a_tensor(tmp_path, state):
    path = _saved(tmp_path, {"conv1.conv2d.weight": state["conv1.conv2d.weight"], "style": "candy"})
    with pytest.raises(CheckpointError, match="'style' is a str, not a tensor"):
        read_state_dict(path, max_bytes=LIMIT)


def test_it_refuses_the_weights_of_another_architecture_listing_what_does_not_fit(tmp_path):
    path = _saved(tmp_path, MultiStyleNet().state_dict())
    state = read_state_dict(path, max_bytes=LIMIT)
    with pytest.raises(CheckpointError) as caught:
        fit_state_dict(TransformerNet(), state, ignore=SINGLE_STYLE_IGNORE)
    message = str(caught.value)
    assert message.startswith("The weights do not fit the single-style network: ")
    n_ours, n_theirs = len(TransformerNet().state_dict()), len(state)
    assert f"missing {n_ours} keys (conv1.conv2d.weight, conv1.conv2d.bias, in1.weight" in message
    assert f"and {n_ours - 8} more)" in message
    assert f"unexpected {n_theirs} keys (contract.0.conv.conv.weight, " in message
    assert f"and {n_theirs - 8} more)" in message


def test_it_refuses_a_checkpoint_with_a_key_missing_naming_it(state):
    cut = {k: v for k, v in state.items() if k != "deconv3.conv2d.bias"}
    with pytest.raises(CheckpointError, match=r"missing 1 key \(deconv3\.conv2d\.bias\)\.$"):
        fit_state_dict(TransformerNet(), cut, ignore=SINGLE_STYLE_IGNORE)


def test_it_refuses_a_mis_shaped_key_naming_both_shapes(state):
    bad = dict(state) | {"in1.weight": torch.ones(16), "conv2.conv2d.weight": torch.ones(64, 32, 5, 5)}
    with pytest.raises(CheckpointError) as caught:
        fit_state_dict(TransformerNet(), bad, ignore=SINGLE_STYLE_IGNORE)
    message = str(caught.value)
    assert "wrong shape for in1.weight: expected (32,), got (16,)" in message
    assert "wrong shape for conv2.conv2d.weight: expected (64, 32, 3, 3), got (64, 32, 5, 5)" in message
    assert "missing" not in message and "unexpected" not in message


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_it_refuses_weights_that_are_not_finite(state, value):
    bad = {k: v.clone() for k, v in state.items()}
    bad["res3.conv1.conv2d.weight"][0, 0, 0, 0] = value
    with pytest.raises(CheckpointError, match=r"NaN or infinite values, in 1 tensor \(res3\.conv1\.conv2d\.weight\)"):
        fit_state_dict(TransformerNet(), bad, ignore=SINGLE_STYLE_IGNORE)


def test_a_checkpoint_error_is_a_style_error_so_callers_show_its_message():
    assert issubclass(CheckpointError, StyleError)


def test_the_reader_and_the_network_import_no_django():
    code = "import sys, generator.ml.checkpoints, generator.ml.nets.transformer_net; assert 'django' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
