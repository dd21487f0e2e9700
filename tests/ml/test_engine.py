"""The stylize API: every kind of style, every option, and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from generator.ml import engine, loading
from generator.ml.engine import Blend, Network
from generator.ml.errors import Cancelled, StyleError
from generator.ml.files import save_state
from generator.ml.imaging import load_image, luminance, resize_tensor, to_tensor
from generator.ml.loading import ModelSet, Weights
from generator.ml.nets.transformer_net import TransformerNet
from tests.shared_weights import shipped_models

CPU = torch.device("cpu")


def stylize(*args, models=None, **kwargs):
    """The engine with the shipped networks, unless a test hands it others."""
    return engine.stylize(*args, models=models or shipped_models(), **kwargs)


def arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float32) / 255.0


def test_it_paints_any_size_and_keeps_the_aspect_ratio(chelsea):
    photo = Image.open(chelsea).convert("RGB").crop((0, 0, 333, 217))  # no multiple of 4
    result = stylize(photo, "cobalt-strokes", max_side=333)
    assert result.image.size == (333, 217)
    result = stylize(photo, "starry-night", max_side=500)
    assert result.image.size == (500, 326)


def test_a_result_records_the_exact_weights_that_made_it(chelsea):
    shipped = shipped_models()
    network = stylize(chelsea, "cobalt-strokes", max_side=128)
    assert [(m.kind, m.sha256) for m in network.models] == [("multistyle26", shipped["multistyle26", ""].sha256)]
    painting = stylize(chelsea, "udnie", max_side=128)
    assert {m.kind for m in painting.models} == {"magenta_predictor", "magenta_transformer"}
    assert painting.device == "cpu" and painting.seconds > 0


def test_any_style_image_works_as_a_style(chelsea, starry):
    from_file = stylize(chelsea, starry, max_side=160).image
    from_preset = stylize(chelsea, "starry-night", max_side=160).image
    np.testing.assert_allclose(arr(from_file), arr(from_preset), atol=1 / 255)


def test_a_blend_with_one_weight_is_that_style_and_a_mix_differs_from_both(chelsea):
    a = arr(stylize(chelsea, "cobalt-strokes", max_side=160).image)
    b = arr(stylize(chelsea, "crimson-fire", max_side=160).image)
    only_a = arr(stylize(chelsea, Blend((("cobalt-strokes", 1.0), ("crimson-fire", 0.0))), max_side=160).image)
    mix = arr(stylize(chelsea, Blend((("cobalt-strokes", 1.0), ("crimson-fire", 1.0))), max_side=160).image)
    np.testing.assert_allclose(only_a, a, atol=1 / 255)
    assert np.abs(mix - a).mean() > 0.03 and np.abs(mix - b).mean() > 0.03


def test_paintings_and_network_styles_blend_together(chelsea, starry):
    result = stylize(chelsea, Blend(((starry, 0.5), ("cobalt-strokes", 0.5))), max_side=160)
    assert {m.kind for m in result.models} >= {"multistyle26", "magenta_predictor", "magenta_transformer"}


def test_lower_strength_stays_closer_to_the_photo(chelsea):
    photo = arr(Image.open(chelsea).convert("RGB").resize((256, 170), Image.Resampling.LANCZOS))
    for style in ("starry-night", "cobalt-strokes"):
        distances = [
            np.abs(arr(stylize(chelsea, style, strength=s, max_side=256).image) - photo).mean() for s in (1.0, 0.5, 0.0)
        ]
        assert distances[0] > distances[1] > distances[2], (style, distances)
    unchanged = arr(stylize(chelsea, "cobalt-strokes", strength=0.0, max_side=256).image)
    assert np.abs(unchanged - photo).max() <= 2 / 255  # a network style at strength 0 is the photo


def test_preserving_colours_keeps_the_photo_s_colours(chelsea):
    photo = to_tensor(Image.open(chelsea).convert("RGB").resize((256, 170), Image.Resampling.LANCZOS))

    def chroma_gap(img: Image.Image) -> float:
        t = to_tensor(img)
        return float(((t - luminance(t)) - (photo - luminance(photo))).abs().mean())

    kept = stylize(chelsea, "crimson-fire", preserve_colors=True, max_side=256).image
    free = stylize(chelsea, "crimson-fire", max_side=256).image
    assert chroma_gap(kept) < 0.01 < chroma_gap(free)


def test_warming_up_loads_exactly_the_networks_it_is_given():
    shipped = shipped_models()
    loading.clear()
    engine.warm_up(
        ModelSet.of(shipped[k, ""] for k in ("multistyle26", "magenta_predictor", "magenta_transformer")), "cpu"
    )
    assert {kind for kind, _, _ in loading.loaded()} == {"multistyle26", "magenta_predictor", "magenta_transformer"}


def test_a_run_uses_only_the_networks_it_was_handed(chelsea):
    only_multistyle = ModelSet.of([shipped_models()["multistyle26", ""]])
    assert stylize(chelsea, "cobalt-strokes", max_side=96, models=only_multistyle).image.size[0] == 96
    with pytest.raises(StyleError, match="No arbitrary-style predictor is available"):
        stylize(chelsea, "starry-night", max_side=96, models=only_multistyle)


@pytest.fixture(scope="module")
def single_style(tmp_path_factory) -> ModelSet:
    """The shipped networks plus a single-style network (random weights) in the slot "mosaic"."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("single") / "mosaic.safetensors"
    sha = save_state(TransformerNet().state_dict(), path)
    mosaic = Weights("transformer_net", path, sha, "mosaic")
    return ModelSet({**shipped_models(), ("transformer_net", "mosaic"): mosaic})


def test_a_single_style_network_paints_alone_and_is_recorded_with_its_slot(chelsea, single_style):
    result = stylize(chelsea, Network("transformer_net", slot="mosaic"), max_side=200, models=single_style)
    assert result.image.size == (200, 133)
    assert [(m.kind, m.slot) for m in result.models] == [("transformer_net", "mosaic")]
    photo = arr(Image.open(chelsea).convert("RGB").resize((200, 133), Image.Resampling.LANCZOS))
    weaker = stylize(
        chelsea, Network("transformer_net", slot="mosaic"), max_side=200, strength=0.3, models=single_style
    )
    assert np.abs(arr(weaker.image) - photo).mean() < np.abs(arr(result.image) - photo).mean()


def test_a_single_style_network_blends_with_a_painting(chelsea, starry, single_style):
    result = stylize(
        chelsea,
        Blend(((Network("transformer_net", slot="mosaic"), 0.5), (starry, 0.5))),
        max_side=128,
        models=single_style,
    )
    assert {(m.kind, m.slot) for m in result.models} >= {("transformer_net", "mosaic"), ("magenta_predictor", "")}


def test_a_single_style_network_not_in_the_set_is_a_clear_error(chelsea, single_style):
    with pytest.raises(StyleError, match="single-style network “waves”"):
        stylize(chelsea, Network("transformer_net", slot="waves"), max_side=96, models=single_style)


def test_brush_sets_the_scale_the_network_paints_at(chelsea):
    assert stylize(chelsea, "cobalt-strokes", max_side=512).paint_size[0] == engine.BRUSH_SIDE
    assert stylize(chelsea, "cobalt-strokes", max_side=512, brush=2.0).paint_size[0] == engine.BRUSH_SIDE // 2
    assert stylize(chelsea, "cobalt-strokes", max_side=256).paint_size[0] == 256  # never above the output
    big = stylize(chelsea, "cobalt-strokes", max_side=2048)
    assert big.image.size == (2048, 1362)
    # strokes keep their size relative to the picture instead of shrinking to noise on a big print
    assert big.paint_size[0] == engine.BRUSH_SIDE


def test_a_bigger_brush_paints_bigger_strokes(chelsea):
    def coarse_share(img: Image.Image) -> float:  # the part of the picture's variation above 1/16 scale
        t = luminance(to_tensor(img))
        h, w = t.shape[-2:]
        blurred = resize_tensor(resize_tensor(t, (h // 16, w // 16)), (h, w))
        return float(blurred.var() / t.var())

    small = stylize(chelsea, "starry-night", max_side=768, brush=0.5).image
    large = stylize(chelsea, "starry-night", max_side=768, brush=3.0).image
    assert coarse_share(large) > coarse_share(small)


def test_edges_stay_sharp_when_the_network_paints_below_the_output_size(chelsea):
    result = stylize(chelsea, "cobalt-strokes", max_side=1024, brush=4.0)
    assert result.paint_size[0] == 96
    out = to_tensor(result.image)
    plain = resize_tensor(to_tensor(stylize(chelsea, "cobalt-strokes", max_side=96).image), out.shape[-2:])

    def detail(t: torch.Tensor) -> float:  # energy of the Laplacian: fine detail
        lap = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])[None, None]
        return float(torch.nn.functional.conv2d(luminance(t), lap).var())

    assert detail(out) > 2 * detail(plain)


def test_a_picture_too_big_for_memory_is_painted_in_tiles_without_seams(chelsea):
    whole = stylize(chelsea, "starry-night", max_side=600)
    tiled = stylize(chelsea, "starry-night", max_side=600, memory_budget=200 * 200 * engine.BYTES_PER_PIXEL)
    assert whole.tiles == 1 and tiled.tiles >= 6
    a, b = arr(whole.image), arr(tiled.image)
    # tiles reuse the whole picture's statistics (taken at a lower size), so they agree closely
    assert np.abs(a - b).mean() < 0.03
    # and there is no seam: neighbouring columns differ no more across tile borders than elsewhere
    cols = np.abs(np.diff(b, axis=1)).mean(axis=(0, 2))
    assert cols.max() < 4 * np.median(cols)


class Cramped(torch.nn.Module):
    """A network on a device with little memory: a pass over more than `pixels` pixels runs out of it, the
    way CUDA (torch.OutOfMemoryError) or the CPU allocator (RuntimeError) says so."""

    def __init__(self, net: torch.nn.Module, pixels: int, error: type[Exception]):
        super().__init__()
        self.net, self.pixels, self.error, self.refused = net, pixels, error, 0

    def forward(self, x, *condition):
        if x.shape[-2] * x.shape[-1] > self.pixels:
            self.refused += 1
            raise self.error(
                "CUDA out of memory"
                if self.error is torch.OutOfMemoryError
                else "DefaultCPUAllocator: not enough memory: you tried to allocate 3221225472 bytes."
            )
        return self.net(x, *condition)


@pytest.mark.parametrize("error", [torch.OutOfMemoryError, RuntimeError])
def test_a_pass_that_runs_out_of_memory_is_painted_again_in_smaller_tiles(chelsea, monkeypatch, error):
    whole = stylize(chelsea, "pop-outline", max_side=600)
    cramped = []

    def get_net(self, kind, device, slot=""):
        net, ref = real_get_net(self, kind, device, slot)
        cramped.append(Cramped(net, pixels=260 * 260, error=error))
        return cramped[-1], ref

    real_get_net = ModelSet.get_net
    monkeypatch.setattr(ModelSet, "get_net", get_net)
    painted = stylize(chelsea, "pop-outline", max_side=600)  # the budget says one pass: the device says no

    assert painted.tiles > 1 and sum(net.refused for net in cramped) >= 1
    assert painted.image.size == whole.image.size
    # the tiles share statistics taken at a lower size than usual (that pass had to fit too): close, not equal
    a, b = arr(whole.image), arr(painted.image)
    assert np.abs(a - b).mean() < 0.08
    # and no seams: no column boundary much sharper than the same one in the painting made in one pass
    sharp_a, sharp_b = (np.abs(np.diff(img, axis=1)).mean(axis=(0, 2)) for img in (a, b))
    assert (sharp_b - sharp_a).max() < np.median(sharp_a)


def test_a_picture_too_big_even_for_the_smallest_tiles_fails_with_a_message(chelsea, monkeypatch):
    real_get_net = ModelSet.get_net

    def get_net(self, kind, device, slot=""):
        net, ref = real_get_net(self, kind, device, slot)
        if kind == "magenta_predictor":  # it reads the painting at 256 px: let it, and starve the painter
            return net, ref
        return Cramped(net, pixels=64 * 64, error=torch.OutOfMemoryError), ref

    monkeypatch.setattr(ModelSet, "get_net", get_net)
    with pytest.raises(StyleError, match="too large for the memory"):
        stylize(chelsea, "pop-outline", max_side=600)


def test_other_runtime_errors_are_not_mistaken_for_memory(chelsea, monkeypatch):
    real_get_net = ModelSet.get_net

    class Broken(torch.nn.Module):
        def forward(self, x, *condition):
            raise RuntimeError("Given groups=1, weight of size [32, 3, 9, 9], expected input to have 3 channels")

    monkeypatch.setattr(
        ModelSet, "get_net", lambda self, kind, device, slot="": (Broken(), real_get_net(self, kind, device, slot)[1])
    )
    with pytest.raises(RuntimeError, match="expected input"):
        stylize(chelsea, "pop-outline", max_side=600)


def test_progress_runs_from_start_to_one_and_cancel_stops_the_run(chelsea):
    seen = []
    stylize(
        chelsea,
        "udnie",
        max_side=300,
        memory_budget=120 * 120 * engine.BYTES_PER_PIXEL,
        progress=lambda f, preview: seen.append(f),
    )
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 3
    with pytest.raises(Cancelled):
        stylize(chelsea, "udnie", max_side=300, cancel=lambda: True)


def test_quality_mode_refines_the_fast_result_and_shows_previews(chelsea):
    previews = []
    fast = stylize(chelsea, "starry-night", max_side=160)
    good = stylize(
        chelsea,
        "starry-night",
        max_side=160,
        mode="quality",
        quality_steps=12,
        progress=lambda f, p: previews.append((f, p)),
    )
    assert "efficientnet_lite0" in {m.kind for m in good.models}
    assert good.image.size == fast.image.size
    assert np.abs(arr(good.image) - arr(fast.image)).mean() > 0.005
    assert any(p is not None for _, p in previews) and previews[-1][0] == 1.0
    checks = iter(range(10_000))
    with pytest.raises(Cancelled):  # a flag raised mid-way through the optimisation
        stylize(
            chelsea, "starry-night", max_side=160, mode="quality", quality_steps=12, cancel=lambda: next(checks) > 5
        )


def test_quality_mode_never_moves_the_style_away_from_the_painting(chelsea, starry):
    def distance(img: Image.Image) -> float:
        with torch.inference_mode():
            return float((engine.style_vector(img, CPU, shipped_models())[0] - painting).norm())

    with torch.inference_mode():
        painting = engine.style_vector(load_image(starry), CPU, shipped_models())[0]
    fast = stylize(chelsea, starry, max_side=192).image
    good = stylize(chelsea, starry, max_side=192, mode="quality", quality_steps=16).image
    assert distance(good) <= distance(fast)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"style": "no-such-style"}, "no preset called"),
        ({"strength": 1.5}, "Strength must be between 0 and 1"),
        ({"strength": -0.1}, "Strength must be between 0 and 1"),
        ({"max_side": 5000}, "from 64 to 4096"),
        ({"max_side": 32}, "from 64 to 4096"),
        ({"brush": 0}, "Brush size"),
        ({"mode": "slow"}, "Mode must be"),
        ({"style": Blend((("udnie", 0.0),))}, "weight above zero"),
        ({"style": Blend((("udnie", -1.0),))}, "zero or more"),
        ({"device": "tpu"}, "Unknown device"),
        ({"style": Network("magenta_predictor")}, "does not paint by itself"),
        ({"style": Network("multistyle26", index=26)}, "styles 0 to 25"),
    ],
)
def test_bad_options_raise_one_clear_error(chelsea, options, message):
    kwargs = {"style": "udnie", "max_side": 128} | options
    style = kwargs.pop("style")
    with pytest.raises(StyleError, match=message):
        stylize(chelsea, style, **kwargs)


def test_a_bad_style_image_is_named_in_the_error(chelsea, tmp_path):
    broken = tmp_path / "painting.png"
    broken.write_bytes(b"not really a png")
    with pytest.raises(StyleError, match="style image"):
        stylize(chelsea, broken, max_side=128)


@pytest.fixture(scope="module")
def with_a_new_style(tmp_path_factory) -> ModelSet:
    """The shipped networks with a 27th style added to the 26-style network: a copy of style 3's row (Stained
    Glass), so what it paints is known."""
    from generator.ml.training import add_style

    net, index = add_style(loading.from_file(shipped_models()["multistyle26", ""]))
    state = net.state_dict()
    for k in state:
        if k.endswith((".gamma", ".beta")):
            state[k][index] = state[k][3]
    path = tmp_path_factory.mktemp("styles") / "multistyle27.safetensors"
    sha = save_state(state, path)
    return ModelSet({**shipped_models(), ("multistyle26", ""): Weights("multistyle26", path, sha)})


def test_a_style_added_to_the_network_paints_and_blends_like_the_shipped_ones(chelsea, with_a_new_style):
    new = stylize(chelsea, Network("multistyle26", index=26), max_side=96, models=with_a_new_style)
    same_row = stylize(chelsea, Network("multistyle26", index=3), max_side=96, models=with_a_new_style)
    assert np.array_equal(arr(new.image), arr(same_row.image))
    blend = Blend(((Network("multistyle26", index=26), 0.5), (Network("multistyle26", index=0), 0.5)))
    assert stylize(chelsea, blend, max_side=96, models=with_a_new_style).image.size == (96, 64)
    with pytest.raises(StyleError, match="styles 0 to 26, not 27"):
        stylize(chelsea, Network("multistyle26", index=27), max_side=96, models=with_a_new_style)
    with pytest.raises(StyleError, match="styles 0 to 25, not 26"):  # the shipped network lacks it
        stylize(chelsea, Network("multistyle26", index=26), max_side=96)
