"""Read weight files that an admin uploads, without trusting them.

An uploaded checkpoint is untrusted input: a pickle can run any code when it is loaded, and a
file can be huge, cut short or something else entirely. So a file is sniffed by its content,
never its name; pickles go through ``torch.load(weights_only=True)``, which refuses anything but
tensors and plain containers instead of executing it; and every failure becomes a
``CheckpointError`` whose message an admin can act on.

``read_state_dict`` turns a file into named float32 CPU tensors; ``fit_state_dict`` checks them
against a network and says, in one message, everything that does not fit.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from .errors import StyleError

# Keys that old pytorch/examples fast_neural_style checkpoints carry and TransformerNet has no use
# for: InstanceNorm2d kept running statistics before PyTorch 0.4, and instance norm ignores them.
SINGLE_STYLE_IGNORE: tuple[str, ...] = (
    r"^in[1-5]\.(running_mean|running_var|num_batches_tracked)$",
    r"^res[1-5]\.in[12]\.(running_mean|running_var|num_batches_tracked)$",
)

_WRAPPERS = ("state_dict", "model", "state_dict_ema")  # what training scripts wrap weights in
_SAFETENSORS_MAX_HEADER = 100_000_000  # the limit the safetensors format itself sets
_LIST_CAP = 8

NOT_WEIGHTS = "This file is not a PyTorch or safetensors weights file."
DAMAGED = "This weights file is damaged or cut short; upload it again, or export it anew."
REFUSED_CODE = (
    "This weights file was refused: it contains code or objects other than tensors (a pickle that "
    "runs code is never loaded). Save only the state dict, e.g. torch.save(model.state_dict(), path), "
    "or convert it to safetensors."
)


class CheckpointError(StyleError):
    """An uploaded weights file that cannot be used; the message says why, for an admin."""


def read_state_dict(path: Path, *, max_bytes: int) -> dict[str, torch.Tensor]:
    """The named tensors in a safetensors or torch.save file, as contiguous CPU tensors.

    Floating-point tensors come back as float32; integer ones (such as a batch norm's
    ``num_batches_tracked``) keep their type. Raises CheckpointError for anything else.
    """
    size = path.stat().st_size
    if size > max_bytes:  # checked before a single byte is read
        raise CheckpointError(
            f"This file is {_size(size)} ({size:,} bytes); weights files may be at most {_size(max_bytes)}."
        )
    if size == 0:
        raise CheckpointError("This file is empty.")
    with path.open("rb") as f:
        head = f.read(9)

    if head.startswith(b"PK\x03\x04"):  # torch.save's zip archive
        _check_torch_archive(path)
        loaded = _torch_load(path)
    elif head[8:9] == b"{":  # safetensors: u64 little-endian header length, then a JSON object
        header = int.from_bytes(head[:8], "little")
        if header > _SAFETENSORS_MAX_HEADER:
            raise CheckpointError(NOT_WEIGHTS)
        if 8 + header > size:
            raise CheckpointError(DAMAGED)
        loaded = _safetensors_load(path)
    elif head.startswith(b"\x80"):  # a pickle's protocol opcode: torch.save's legacy format
        loaded = _torch_load(path)
    else:
        raise CheckpointError(NOT_WEIGHTS)
    return _tensors(_unwrap(loaded))


def fit_state_dict(
    model: nn.Module, state: Mapping[str, torch.Tensor], *, ignore: tuple[str, ...] = ()
) -> dict[str, torch.Tensor]:
    """The state dict ready for ``model.load_state_dict``, or CheckpointError listing every misfit.

    ``ignore`` holds regular expressions (``re.search``) of keys to drop first, such as
    ``SINGLE_STYLE_IGNORE``. Values come back in the model's dtypes; NaN or infinity is refused.
    """
    patterns = [re.compile(p) for p in ignore]
    state = {k: v for k, v in state.items() if not any(p.search(k) for p in patterns)}
    expected = model.state_dict()

    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshaped = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    problems = []
    if missing:
        problems.append(f"missing {_count(missing, 'key')} ({_names(missing)})")
    if unexpected:
        problems.append(f"unexpected {_count(unexpected, 'key')} ({_names(unexpected)})")
    for k in misshaped[:_LIST_CAP]:
        problems.append(f"wrong shape for {k}: expected {tuple(expected[k].shape)}, got {tuple(state[k].shape)}")
    if len(misshaped) > _LIST_CAP:
        problems.append(f"and {len(misshaped) - _LIST_CAP} more keys of the wrong shape")
    if problems:
        label = getattr(model, "label", "network")
        raise CheckpointError(f"The weights do not fit the {label}: {'; '.join(problems)}.")

    broken = [k for k in expected if state[k].is_floating_point() and not torch.isfinite(state[k]).all()]
    if broken:
        raise CheckpointError(
            f"The weights contain NaN or infinite values, in {_count(broken, 'tensor')} ({_names(broken)}); "
            "the training run that saved them had likely diverged."
        )
    return {k: state[k].to(expected[k].dtype) for k in expected}


def _check_torch_archive(path: Path) -> None:
    # Python's zipfile tells a cut-short archive from a zip of something else in plain words;
    # torch.load's errors for the two are internal messages from its C++ reader.
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):  # no central directory: the end of the file is missing
        raise CheckpointError(DAMAGED) from None
    if not any(name.rpartition("/")[2] == "data.pkl" for name in names):  # a .docx, a .zip of pictures
        raise CheckpointError(NOT_WEIGHTS)


def _torch_load(path: Path) -> object:
    try:
        with warnings.catch_warnings():
            # Its warnings (pickle protocol versions and the like) ask developers to file issues.
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any failure to parse untrusted bytes means the file is unusable
        message = str(e)
        if "Weights only load failed" in message:
            raise CheckpointError(REFUSED_CODE) from None
        if "Invalid magic number" in message:  # a pickle, but not one torch.save wrote
            raise CheckpointError(NOT_WEIGHTS) from None
        raise CheckpointError(DAMAGED) from None


def _safetensors_load(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(path, device="cpu")
    except Exception:  # SafetensorError and friends: a header that does not match the data
        raise CheckpointError(DAMAGED) from None


def _unwrap(loaded: object) -> Mapping:
    # Training scripts save {"state_dict": ..., "epoch": ..., "optimizer": ...} and the like.
    for _ in range(3):
        if not isinstance(loaded, Mapping) or all(isinstance(v, torch.Tensor) for v in loaded.values()):
            break
        inner = next((loaded[k] for k in _WRAPPERS if isinstance(loaded.get(k), Mapping)), None)
        if inner is None:
            break
        loaded = inner
    if not isinstance(loaded, Mapping):
        raise CheckpointError(f"This weights file holds a {type(loaded).__name__}, not a dictionary of named tensors.")
    if not loaded:
        raise CheckpointError("This weights file holds no tensors.")
    return loaded


def _tensors(state: Mapping) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise CheckpointError(f"This weights file has a key that is not a name: {key!r}.")
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"The entry {key!r} is a {type(value).__name__}, not a tensor; "
                "a weights file must hold only named tensors."
            )
        if value.layout != torch.strided or value.is_quantized or value.is_complex():
            raise CheckpointError(f"The tensor {key!r} is of a kind the style networks cannot use ({value.dtype}).")
        value = value.detach().to("cpu")
        if value.is_floating_point():
            value = value.float()  # half and bfloat16 checkpoints are common; the engine casts later
        out[key] = value.contiguous()
    prefix = "module."  # what nn.DataParallel puts in front of every key
    if all(k.startswith(prefix) for k in out):
        out = {k.removeprefix(prefix): v for k, v in out.items()}
    return out


def _count(keys: list[str], noun: str) -> str:
    return f"{len(keys)} {noun}{'' if len(keys) == 1 else 's'}"


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:_LIST_CAP])
    return shown if len(keys) <= _LIST_CAP else f"{shown} and {len(keys) - _LIST_CAP} more"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
