"""Pictures and jobs for the web tests: small, made in memory, named for what they are."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from generator import services
from generator.ml.options import JobOptions
from generator.models import Job


def picture_bytes(size: tuple[int, int] = (96, 64), fmt: str = "PNG", color=(200, 120, 40), **options) -> bytes:
    img = Image.new("RGB", size, color)
    # A little structure, so the engine has edges to paint
    for x in range(0, size[0], 8):
        for y in range(size[1]):
            img.putpixel((x, y), (20, 40, 160))
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return buf.getvalue()


def noise_bytes(size: tuple[int, int] = (300, 300)) -> bytes:
    """A PNG that does not compress: random pixels."""
    buf = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buf, format="PNG")
    return buf.getvalue()


def upload(data: bytes, name: str = "photo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def photo(name: str = "photo.png", size: tuple[int, int] = (96, 64), fmt: str = "PNG") -> SimpleUploadedFile:
    return upload(picture_bytes(size, fmt), name)


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header declares an enormous picture: a decompression bomb."""
    data = bytearray(picture_bytes((8, 8)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def make_job(owner, *, style_image=None, **options) -> Job:
    """A job made the way the studio makes one (through services.job_create): pop-outline at 512 px unless
    `options` (JobOptions' fields) say otherwise."""
    upload = options.pop("photo", None) or photo()
    chosen = JobOptions(**{"style_preset": "pop-outline", "max_side": 512, **options})
    return services.job_create(owner=owner, photo=upload, style_image=style_image, options=chosen)


def files_under(path: Path) -> list[Path]:
    """The artists' files under a media folder (the model registry's models/ and presets/ aside)."""
    users = path / "users"
    return sorted(p for p in users.rglob("*") if p.is_file()) if users.exists() else []


def transformer_net_checkpoint(path: Path, *, seed: int = 0, old_format: bool = False) -> Path:
    """A single-style checkpoint saved the way pytorch/examples' fast_neural_style saves one.

    `old_format`: the legacy (non-zip) serialisation, with the InstanceNorm running_mean / running_var
    keys that checkpoints from older PyTorch versions carry.
    """
    import torch

    from generator.ml.nets.transformer_net import TransformerNet

    torch.manual_seed(seed)
    state = TransformerNet().state_dict()
    # A freshly initialised network paints near-black (validation refuses it as untrained); these
    # weights stand in for trained ones: the last layer spreads its output over the 0..255 range.
    state["deconv3.conv2d.weight"] *= 300.0
    state["deconv3.conv2d.bias"] += 127.0
    if old_format:
        for key in [k for k in state if k.split(".")[-2].startswith("in") and k.endswith(".weight")]:
            channels = state[key].shape[0]
            state[key[: -len("weight")] + "running_mean"] = torch.zeros(channels)
            state[key[: -len("weight")] + "running_var"] = torch.ones(channels)
        torch.save(state, path, _use_new_zipfile_serialization=False)
    else:
        torch.save(state, path)
    return path
