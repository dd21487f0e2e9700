"""Every way a picture can be odd or bad, through the one door: load_image."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generator.ml.errors import StyleError
from generator.ml.imaging import keep_colors, load_image, save_image, to_tensor
from tests.conftest import png_bytes


def test_it_honours_exif_orientation():
    img = Image.new("RGB", (64, 32), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    assert load_image(buf.getvalue()).size == (32, 64)


def test_it_flattens_transparency_onto_white():
    img = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    img.putpixel((0, 0), (255, 0, 0, 255))
    rgb = load_image(png_bytes(img))
    assert rgb.mode == "RGB"
    assert rgb.getpixel((5, 5)) == (255, 255, 255)
    assert rgb.getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Image.new("CMYK", (40, 40), (0, 255, 255, 0)),
        lambda: Image.new("L", (40, 40), 128),
        lambda: Image.new("1", (40, 40), 1),
        lambda: Image.new("P", (40, 40), 3),
    ],
    ids=["cmyk", "greyscale", "bilevel", "palette"],
)
def test_it_converts_other_modes_to_rgb(make):
    img = make()
    buf = io.BytesIO()
    img.save(buf, format="TIFF" if img.mode == "CMYK" else "PNG")
    assert load_image(buf.getvalue()).mode == "RGB"


def test_it_converts_16_bit_greyscale_keeping_its_range():
    arr = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    rgb = np.asarray(load_image(png_bytes(Image.fromarray(arr))))
    assert rgb.shape == (64, 64, 3)
    assert rgb.min() <= 1 and rgb.max() >= 254


def test_it_rejects_what_is_not_a_picture():
    with pytest.raises(StyleError, match="not a picture"):
        load_image(b"%PDF-1.4 definitely not an image")


def test_it_rejects_a_truncated_file():
    data = png_bytes(Image.effect_noise((256, 256), 64).convert("RGB"))
    with pytest.raises(StyleError, match="damaged or cut short"):
        load_image(data[: len(data) // 2])


def test_it_rejects_a_picture_too_small_to_paint():
    with pytest.raises(StyleError, match="at least 32 pixels"):
        load_image(png_bytes(Image.new("RGB", (20, 200))))


def test_it_rejects_more_than_forty_megapixels_before_decoding():
    big = png_bytes(Image.new("L", (8000, 6000)), optimize=False)  # 48 MP, a few KB of PNG
    with pytest.raises(StyleError, match="megapixels"):
        load_image(big)


def test_it_rejects_a_decompression_bomb():
    bomb = png_bytes(Image.new("1", (20000, 20000)))  # 400 MP behind a tiny file
    with pytest.raises(StyleError, match="megapixel"):
        load_image(bomb)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(StyleError, match="does not exist"):
        load_image(tmp_path / "nope.jpg")


def test_saving_is_all_or_nothing(tmp_path):
    img = Image.new("RGB", (40, 40))
    with pytest.raises(StyleError, match="use .png"):
        save_image(img, tmp_path / "out.xyz")

    class Exploding(Image.Image):
        def save(self, *args, **kwargs):
            raise OSError("disk full")

    broken = Exploding()
    broken.__dict__.update(img.__dict__)
    with pytest.raises(OSError):
        save_image(broken, tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []
    save_image(img, tmp_path / "out.webp")
    assert [p.name for p in tmp_path.iterdir()] == ["out.webp"]


def test_keeping_colours_takes_light_from_one_picture_and_colour_from_the_other():
    photo = to_tensor(Image.new("RGB", (8, 8), (200, 60, 60)))
    painted = to_tensor(Image.new("RGB", (8, 8), (30, 30, 220)))
    kept = keep_colors(painted, photo)
    # chroma (differences between channels) from the photo ...
    assert torch_close(kept[:, 0] - kept[:, 1], photo[:, 0] - photo[:, 1])
    # ... luminance from the painting
    lum = lambda t: 0.299 * t[:, 0] + 0.587 * t[:, 1] + 0.114 * t[:, 2]  # noqa: E731
    assert torch_close(lum(kept), lum(painted))


def torch_close(a, b, tol=1e-5) -> bool:
    return float((a - b).abs().max()) <= tol
