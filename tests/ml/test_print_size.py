"""Pictures that hold up at print size: the photo's real detail and no invented texture, the painting's colours."""

from __future__ import annotations

import pytest
import torch

from generator.ml import engine, metrics
from generator.ml.imaging import (
    Palette,
    guided_upsample,
    lab_to_srgb,
    load_image,
    match_palette,
    resize_long_side,
    resize_tensor,
    srgb_to_lab,
    to_tensor,
)
from generator.ml.texture import TextureConfig, painting_detail
from tests.shared_weights import shipped_models

SHIPWRECK = engine.presets.get("shipwreck").painting_path


def stylize(*args, **kwargs):
    return engine.stylize(*args, models=shipped_models(), **kwargs)


def step_photo(h: int = 256, w: int = 256) -> torch.Tensor:
    """A dark left half and a light right half, with a fine checker texture on the right."""
    edge = w * 53 // 100  # off the coarse grid, so shrinking blurs it
    x = torch.full((1, 3, h, w), 0.2)
    x[..., edge:] = 0.8
    checker = ((torch.arange(h)[:, None] + torch.arange(w)[None, :]) % 2).float() * 0.1 - 0.05
    x[..., :, edge:] += checker[:, edge:]
    return x


def test_the_enlarged_painting_gets_the_photo_s_edge_back_where_it_follows_the_photo():
    photo = step_photo()
    painted = resize_tensor(photo, (32, 32)) * torch.tensor([1.0, 0.5, 0.2])[None, :, None, None]  # an orange copy
    out = guided_upsample(painted, photo)
    plain = resize_tensor(painted, (256, 256))
    red = out[0, 0, 128]

    def edge_width(row: torch.Tensor) -> int:  # pixels between 10 % and 90 % of the step
        lo, hi = float(row[:40].mean()), float(row[-40:].mean())
        between = (row - lo) / (hi - lo)
        return int(((between > 0.1) & (between < 0.9)).sum())

    assert edge_width(red[60:210]) < edge_width(plain[0, 0, 128, 60:210]) / 2
    # the colours stay the painting's: the green channel keeps half the red's contrast
    assert float(out[0, 1, 128, 200] - out[0, 1, 128, 50]) == pytest.approx(0.5 * float(red[200] - red[50]), rel=0.2)


def test_where_the_painting_ignores_the_photo_no_detail_is_added():
    photo = step_photo()
    flat = torch.full((1, 3, 32, 32), 0.5)  # a painted sky that owes nothing to the photo
    out = guided_upsample(flat, photo)
    assert float((out - 0.5).abs().max()) < 1e-3


def test_the_photo_s_fine_texture_is_not_copied_where_the_painting_is_flat_but_edges_are():
    photo = step_photo()
    painted = resize_tensor(photo, (32, 32))
    out = guided_upsample(painted, photo)
    texture = out[0, 0, 40:216, 200:240]  # inside the textured half, away from the edge
    assert float(texture.std()) < 0.5 * float(photo[0, 0, 40:216, 200:240].std())


def test_lab_round_trips_and_knows_white_and_black():
    x = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(lab_to_srgb(srgb_to_lab(x)), x, atol=2e-4, rtol=0)
    lab = srgb_to_lab(torch.tensor([1.0, 0.0]).view(1, 1, 2, 1).expand(1, 3, 2, 1))
    torch.testing.assert_close(lab[0, :, :, 0].T, torch.tensor([[100.0, 0, 0], [0, 0, 0]]), atol=0.05, rtol=0)


def test_a_matched_picture_has_the_palette_s_mean_and_spread():
    g = torch.Generator().manual_seed(0)
    picture = (0.3 + 0.2 * torch.rand(1, 3, 64, 64, generator=g)) * torch.tensor([0.6, 1.0, 0.7])[None, :, None, None]
    painting = (0.2 + 0.6 * torch.rand(1, 3, 48, 80, generator=g)) * torch.tensor([1.0, 0.8, 0.5])[None, :, None, None]
    goal = Palette.of(painting)
    got = Palette.of(match_palette(picture, goal))
    torch.testing.assert_close(got.mean, goal.mean, atol=1.0, rtol=0)  # ΔE; clipping to sRGB moves it a little
    torch.testing.assert_close(got.cov, goal.cov, atol=3.0, rtol=0.08)


def test_a_blend_s_palette_is_the_mixture_of_its_paintings():
    a = torch.zeros(1, 3, 8, 8)
    b = torch.ones(1, 3, 8, 8)
    both = torch.cat([a, b, b, b], dim=-1)  # a quarter black, three quarters white
    mixed = Palette.mix([(Palette.of(a), 1.0), (Palette.of(b), 3.0)])
    whole = Palette.of(both)
    torch.testing.assert_close(mixed.mean, whole.mean, atol=1e-3, rtol=0)
    torch.testing.assert_close(mixed.cov, whole.cov, rtol=0.02, atol=1.0)


def test_fine_share_sees_crackle_and_not_contrast():
    g = torch.Generator().manual_seed(0)
    smooth = resize_tensor(torch.rand(1, 3, 16, 16, generator=g), (256, 256))
    crackled = smooth + 0.05 * torch.randn(1, 3, 256, 256, generator=g)
    assert metrics.fine_share(crackled) > metrics.fine_share(smooth) + 1
    assert metrics.fine_share(0.5 * smooth) == pytest.approx(metrics.fine_share(smooth), abs=1e-3)
    assert metrics.fine_share_against(crackled, resize_tensor(smooth, (64, 64))) > 1


def test_palette_distance_sees_colours_not_layout_and_stray_colours_see_a_cast():
    g = torch.Generator().manual_seed(0)
    picture = 0.3 + 0.4 * torch.rand(1, 3, 64, 64, generator=g)  # muted colours
    shuffled = picture.flatten(2)[..., torch.randperm(64 * 64, generator=g)].reshape_as(picture)
    cast = picture * torch.tensor([0.6, 1.0, 0.8])[None, :, None, None]
    assert metrics.palette_distance(picture, shuffled) < 0.5
    assert metrics.palette_distance(picture, cast) > 3
    assert metrics.stray_colours(shuffled, picture) < 0.01
    green = torch.zeros(1, 3, 32, 32)
    green[:, 1] = 0.8
    assert metrics.stray_colours(torch.cat([picture[..., :32, :32], green], dim=-1), picture) > 0.4


def test_a_print_holds_no_finer_texture_than_its_photo_and_painting(chelsea):
    """The old fine pass painted at print size and covered the picture in 1-2 px squiggles."""
    photo = load_image(chelsea)
    result = to_tensor(stylize(photo, "udnie", max_side=1536).image)
    painting = to_tensor(load_image(engine.presets.get("udnie").painting_path))
    enlarged_photo = to_tensor(resize_long_side(photo, 1536))
    limit = max(metrics.fine_share(enlarged_photo), metrics.fine_share(resize_tensor(painting, result.shape[-2:])))
    assert metrics.fine_share(result) < limit + 0.3


def test_a_painting_s_colours_follow_the_painting_and_preserve_colours_the_photo(chelsea):
    photo = load_image(chelsea)
    painting = to_tensor(load_image(SHIPWRECK))
    target = to_tensor(resize_long_side(photo, 384))
    painted = to_tensor(stylize(photo, "shipwreck", max_side=384).image)
    kept = to_tensor(stylize(photo, "shipwreck", max_side=384, preserve_colors=True).image)
    assert metrics.palette_distance(painted, painting) < 0.5 * metrics.palette_distance(target, painting)
    assert metrics.palette_distance(kept, target) < metrics.palette_distance(kept, painting)
    assert metrics.stray_colours(painted, painting, target) < 0.02


def two_textures(h: int, w: int, *, dark_left: bool) -> torch.Tensor:
    """Dark with vertical 4 px stripes on one half, light with horizontal ones on the other."""
    rows, cols = torch.arange(h)[:, None].expand(h, w), torch.arange(w)[None, :].expand(h, w)
    vertical, horizontal = ((cols // 2) % 2).float(), ((rows // 2) % 2).float()
    left = cols < w // 2
    dark = left if dark_left else ~left
    plane = torch.where(dark, 0.2 + 0.1 * vertical, 0.7 + 0.1 * horizontal)
    return plane.expand(1, 3, h, w).clone()


def stripes(plane: torch.Tensor) -> tuple[float, float]:
    """Power of a (H, W) plane's changes across columns (vertical stripes) and across rows (horizontal)."""
    return float(plane.diff(dim=1).square().mean()), float(plane.diff(dim=0).square().mean())


def test_the_painting_s_marks_go_where_its_light_and_shade_match_the_picture_s():
    painting = two_textures(256, 256, dark_left=True)
    picture = resize_tensor(resize_tensor(two_textures(256, 256, dark_left=False), (32, 32)), (256, 256))

    detail = painting_detail(picture, painting, paint_side=32)[0, 0]

    dark_v, dark_h = stripes(detail[40:216, 150:216])  # the picture's dark half: the painting's dark marks
    light_v, light_h = stripes(detail[40:216, 40:106])
    assert dark_v > 10 * dark_h and light_h > 10 * light_v
    assert dark_v == pytest.approx(stripes(painting[0, 0, :, :128])[0], rel=0.3)  # at the painting's contrast


def test_a_flat_passage_takes_varied_marks_not_one_patch_in_a_grid():
    g = torch.Generator().manual_seed(0)
    painting = resize_tensor(torch.rand(1, 3, 64, 64, generator=g), (512, 512)) + 0.1 * torch.rand(
        1, 3, 512, 512, generator=g
    )
    flat = torch.full((1, 3, 256, 256), float(painting.mean()))
    step = TextureConfig().patch * 3 // 4

    def repeats(cfg: TextureConfig) -> float:
        d = painting_detail(flat, painting, paint_side=64, cfg=cfg)[0, 0, 16:-40, 16:-40]
        a, b = d[:, :-step].flatten(), d[:, step:].flatten()
        return float(torch.corrcoef(torch.stack([a, b]))[0, 1])

    assert repeats(TextureConfig(choices=1)) > 0.9  # the one nearest patch, over and over
    assert repeats(TextureConfig()) < 0.3


def test_a_painting_smaller_than_the_print_gives_no_finer_marks_than_it_holds():
    g = torch.Generator().manual_seed(1)
    small = torch.rand(1, 3, 64, 64, generator=g)
    picture = resize_tensor(torch.rand(1, 3, 32, 32, generator=g), (512, 512))

    detail = painting_detail(picture, small, paint_side=64)[0, 0]
    as_large = painting_detail(
        picture, resize_tensor(small, (512, 512)) + 0.2 * torch.rand(1, 3, 512, 512, generator=g), paint_side=64
    )[0, 0]

    fine = metrics._band_power(detail, [metrics.FINE_BAND])[0]
    assert fine < 0.05 * metrics._band_power(as_large, [metrics.FINE_BAND])[0]
    assert torch.equal(painting_detail(picture, small, paint_side=64)[0, 0], detail)  # the same marks every time


def test_a_print_carries_the_painting_s_own_marks_in_light_and_shade(chelsea, monkeypatch):
    photo = load_image(chelsea)
    painting = to_tensor(load_image(engine.presets.get("starry-night").painting_path))
    marked = to_tensor(stylize(photo, "starry-night", max_side=1024).image)
    monkeypatch.setattr(engine, "painting_detail", lambda picture, *a, **k: torch.zeros_like(picture[:, :1]))
    plain = to_tensor(stylize(photo, "starry-night", max_side=1024).image)

    assert metrics.fine_share_against(plain, painting) < -1  # an enlarged small painting: soft
    assert abs(metrics.fine_share_against(marked, painting)) < abs(metrics.fine_share_against(plain, painting)) - 0.5
    assert metrics.colour_speckle(marked) <= metrics.colour_speckle(plain) + 0.05
