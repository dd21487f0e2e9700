"""The measuring sticks (EfficientNet-Lite0, the metrics) and quality mode's refinement."""

from __future__ import annotations

import pytest
import torch

from generator.ml import metrics, quality
from generator.ml.errors import Cancelled
from generator.ml.imaging import fit_long_side, load_image, resize_tensor, srgb_to_lab, to_tensor
from tests.shared_weights import shipped_models

CPU = torch.device("cpu")
# ImageNet classes 281..285: tabby, tiger cat, Persian, Siamese, Egyptian cat
CATS = set(range(281, 286))
# 504 coffee mug, 967 espresso, 968 cup
COFFEE = {504, 967, 968}


@pytest.fixture(scope="module")
def effnet():
    return shipped_models().get_net("efficientnet_lite0", CPU)[0]


def picture(path, side: int = 224) -> torch.Tensor:
    return fit_long_side(to_tensor(load_image(path)), side)


def test_efficientnet_recognises_the_cat_and_the_coffee(effnet, chelsea):
    photos = chelsea.parent
    with torch.inference_mode():
        cat = effnet(picture(chelsea)).topk(5).indices[0].tolist()
        coffee = effnet(picture(photos / "coffee.png")).topk(5).indices[0].tolist()
    assert cat[0] in CATS, cat
    assert COFFEE & set(coffee), coffee


def test_features_have_the_documented_shapes_and_depth_stops_early(effnet):
    x = torch.rand(1, 3, 64, 96)
    with torch.inference_mode():
        shapes = [tuple(f.shape) for f in effnet.features(x)]
        assert shapes == [(1, 16, 32, 48), (1, 24, 16, 24), (1, 40, 8, 12), (1, 80, 4, 6), (1, 192, 2, 3)]
        assert len(effnet.features(x, depth=2)) == 2


def test_ssim_is_one_for_the_same_picture_and_falls_with_noise(chelsea):
    x = picture(chelsea, 256)
    torch.manual_seed(0)
    slightly = (x + 0.02 * torch.randn_like(x)).clamp(0, 1)
    very = (x + 0.2 * torch.randn_like(x)).clamp(0, 1)
    assert metrics.ssim(x, x) == pytest.approx(1.0)
    assert 1.0 > metrics.ssim(x, slightly) > metrics.ssim(x, very) > 0.0
    with pytest.raises(ValueError, match="one size"):
        metrics.ssim(x, x[..., :100])


def test_sharpness_is_higher_for_a_crisp_picture_than_a_blurred_one(chelsea):
    x = picture(chelsea, 512)
    blurred = resize_tensor(resize_tensor(x, (x.shape[-2] // 4, x.shape[-1] // 4)), x.shape[-2:])
    assert metrics.sharpness(x) > 3 * metrics.sharpness(blurred)


def test_style_distance_is_zero_for_itself_and_grows_with_a_different_painting(effnet, starry):
    paintings = starry.parent
    starry_t = picture(starry, 256)
    scream = picture(paintings / "the_scream.jpg", 256)
    # size-independent: the same painting at two sizes is close, another painting is far
    assert metrics.gram_distance(starry_t, starry_t, effnet) == 0.0
    assert metrics.gram_distance(starry_t, picture(starry, 384), effnet, side=256) < 0.5 * metrics.gram_distance(
        starry_t, scream, effnet
    )


def test_content_distance_grows_as_the_picture_moves_away_from_the_photo(effnet, chelsea):
    x = picture(chelsea, 256)
    torch.manual_seed(0)
    near = (x + 0.03 * torch.randn_like(x)).clamp(0, 1)
    assert metrics.content_distance(x, x, effnet) == 0.0
    assert metrics.content_distance(x, near, effnet) < metrics.content_distance(x, torch.rand_like(x), effnet)
    # a bigger photo is scaled to the result first
    assert metrics.content_distance(x, picture(chelsea, 512), effnet) < metrics.content_distance(x, near, effnet)


def test_refine_moves_the_picture_towards_the_painting_s_texture(effnet, chelsea, starry):
    photo = picture(chelsea, 160)
    painting = picture(starry, 256)
    seen = []
    out = quality.refine(
        content=photo,
        init=photo,
        style=painting,
        features=effnet,
        steps=30,
        progress=lambda f, img: seen.append((f, tuple(img.shape))),
        preview_every=5,
    )
    assert out.shape == photo.shape and float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    before = metrics.gram_distance(photo, painting, effnet)
    assert metrics.gram_distance(out, painting, effnet) < 0.8 * before
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(shape == tuple(photo.shape) for _, shape in seen)


def test_refine_stops_when_cancelled_and_refuses_mismatched_inputs(effnet, chelsea, starry):
    photo = picture(chelsea, 96)
    with pytest.raises(Cancelled):
        quality.refine(
            content=photo, init=photo, style=picture(starry, 96), features=effnet, steps=10, cancel=lambda: True
        )
    with pytest.raises(ValueError, match="must both be"):
        quality.refine(content=photo, init=photo[..., :50], style=photo, features=effnet)


def test_colour_speckle_sees_pixels_that_turn_colour_alone(chelsea):
    photo = picture(chelsea, 256)
    torch.manual_seed(0)
    grey_noise = (photo + 0.06 * torch.randn(1, 1, *photo.shape[-2:])).clamp(0, 1)
    colour_noise = (photo + 0.06 * torch.randn_like(photo)).clamp(0, 1)
    assert metrics.colour_speckle(colour_noise) > metrics.colour_speckle(grey_noise) + 0.5
    assert metrics.colour_speckle(colour_noise) > metrics.colour_speckle(photo) + 0.5


def test_refine_paints_strokes_in_light_and_shade_not_colour_speckle(effnet, chelsea, starry):
    # The change is brightness at the level's size and colour four times coarser: at pixel
    # scale it is light and shade, as a painting's finest detail is. Optimising RGB pixels
    # directly (the earlier quality mode) filled flat areas with red and green pixels.
    photo = picture(chelsea, 256)
    out = quality.refine(content=photo, init=photo, style=picture(starry, 256), features=effnet, steps=40)
    change = out - photo
    assert float(change.abs().mean()) > 0.02  # it painted something
    lab_change = srgb_to_lab(out) - srgb_to_lab(photo)
    light, colour = (
        metrics._band_power(plane, [metrics.SPECKLE_BAND])[0]
        for plane in (lab_change[0, 0], lab_change[0, 1:].square().sum(0).sqrt())
    )
    assert float(colour) < 0.25 * float(light)
    assert metrics.colour_speckle(out) < metrics.colour_speckle(photo) + 0.3


def test_refine_leaves_no_band_of_stray_colours_along_the_edges(effnet, chelsea, starry):
    # Without the mirrored margin the net's zero padding lets the optimisation paint the outer
    # rows and columns in colours of their own (a rainbow band along the top of the picture).
    photo = picture(chelsea, 192)
    style = picture(starry, 192)

    def edge_over_inside(cfg: quality.QualityConfig) -> float:
        out = quality.refine(content=photo, init=photo, style=style, features=effnet, steps=40, cfg=cfg)
        chroma = (srgb_to_lab(out) - srgb_to_lab(photo))[0, 1:].norm(dim=0)
        ring = torch.ones_like(chroma, dtype=torch.bool)
        ring[4:-4, 4:-4] = False
        return float(chroma[ring].mean() / chroma[12:-12, 12:-12].mean())

    assert edge_over_inside(quality.QualityConfig()) < 1.5
    assert edge_over_inside(quality.QualityConfig(margin=0)) > edge_over_inside(quality.QualityConfig())


def test_refine_keeps_strokes_at_the_painting_s_scale_above_the_top_level(effnet, chelsea, starry):
    # A 768 px output is optimised at 256 and 512 px and the change enlarged: the fast result's
    # own edges stay, and no pixel-scale grain is painted at output size.
    photo = fit_long_side(to_tensor(load_image(chelsea)), 768)
    seen = []
    painting = picture(starry, 512)
    out = quality.refine(
        content=photo,
        init=photo,
        style=painting,
        features=effnet,
        steps=8,
        progress=lambda f, img: seen.append(tuple(img.shape)),
        preview_every=1,
    )
    assert out.shape == photo.shape and seen and all(s == tuple(photo.shape) for s in seen)
    assert quality._level_sizes(768, 1024, quality.QualityConfig()) == [(192, 256), (384, 512)]
    assert quality._level_sizes(120, 160, quality.QualityConfig()) == [(60, 80), (120, 160)]
    # no finer texture than the painting has when printed at 768 px
    assert metrics.fine_share_against(out, painting) < 0.5
