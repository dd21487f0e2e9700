"""The evaluation sheet's measures and verdict (generator/ml/compare.py), and the upload check it relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from generator.ml import compare, validation
from generator.ml.engine import Network
from generator.ml.imaging import fit_long_side, load_image, to_tensor
from generator.ml.metrics import blotches

CPU = torch.device("cpu")


def photo(side: int = 256) -> torch.Tensor:
    return fit_long_side(to_tensor(load_image(compare.SHEET_PHOTOS[0])), side)


def test_edges_kept_is_one_for_the_photo_and_near_zero_for_a_pattern_laid_over_it():
    p = photo()
    assert compare.edges_kept(p, p) == pytest.approx(1.0)
    brighter = (p * 0.8 + 0.1).clamp(0, 1)  # a change of tone keeps every contour
    assert compare.edges_kept(brighter, p) > 0.99
    g = torch.Generator().manual_seed(0)
    stripes = torch.zeros_like(p)
    stripes[..., ::8, :] = 1.0  # a pattern that ignores the photo
    noise = torch.rand(p.shape, generator=g)
    assert abs(compare.edges_kept(stripes, p)) < 0.15 and abs(compare.edges_kept(noise, p)) < 0.15
    half = p.clone()
    half[..., :, p.shape[-1] // 2 :] = 0.5  # half the photo erased
    assert 0.3 < compare.edges_kept(half, p) < 0.9
    with pytest.raises(ValueError, match="one size"):
        compare.edges_kept(p[..., :100], p)


def test_blotches_sees_a_patch_in_a_clear_sky_not_a_change_of_colour_or_fine_texture():
    landscape = next(p for p in compare.SHEET_PHOTOS if p.stem == "mountain_landscape")
    p = fit_long_side(to_tensor(load_image(landscape)), 512)
    assert blotches(p, p) == 0.0
    recoloured = torch.stack([p[:, 2], p[:, 0] * 0.7, p[:, 1] * 0.5 + 0.3], dim=1)  # a style's own palette
    assert blotches(recoloured, p) < 0.02
    g = torch.Generator().manual_seed(0)
    grain = (p + 0.15 * (torch.rand(p.shape, generator=g) - 0.5)).clamp(0, 1)  # paper grain, brush texture
    strokes = p.clone()
    strokes[..., ::4, :] *= 0.6  # hatching across the whole picture
    assert blotches(grain, p) < 0.02 and blotches(strokes, p) < 0.05
    h, w = p.shape[-2:]
    blotted = p.clone()
    blotted[..., : h // 10, w // 3 : w // 2] = torch.tensor([0.35, 0.1, 0.1])[:, None, None]  # a dark red blot
    share = blotches(blotted, p)
    assert 0.05 < share < 0.5  # the blot: a part of the flat sky (its top tenth here)
    wider = p.clone()
    wider[..., : h // 10, : 5 * w // 6] = torch.tensor([0.35, 0.1, 0.1])[:, None, None]
    assert blotches(wider, p) > share
    flat = torch.full_like(p, 0.5)
    assert blotches(flat, flat) == 0.0  # evenly grey: flat everywhere, nothing blotted
    busy = torch.rand(1, 3, 256, 256, generator=g)  # no flat region: nothing to blot
    assert blotches(torch.zeros_like(busy), busy) == 0.0


def test_a_difference_counts_only_when_its_interval_is_on_one_side_of_zero():
    base = [0.40, 0.52, 0.31, 0.45, 0.60, 0.38, 0.47, 0.55]
    lower = [b - 0.1 for b in base]
    noisy = [b + d for b, d in zip(base, [0.05, -0.04, 0.03, -0.05, 0.04, -0.03, 0.02, -0.02], strict=True)]
    assert compare.paired_change(lower, base, higher_is_better=True)["is"] == "worse"
    assert compare.paired_change(lower, base, higher_is_better=False)["is"] == "better"  # a distance
    change = compare.paired_change(noisy, base, higher_is_better=True)
    assert change["is"] == "same" and change["low"] < 0 < change["high"]
    assert compare.verdict({"structure": {"is": "better"}, "style": {"is": "same"}}) == "better"
    assert compare.verdict({"structure": {"is": "better"}, "style": {"is": "worse"}}) == "mixed"
    assert compare.verdict({"structure": {"is": "worse"}}) == "worse"
    assert compare.verdict({"structure": {"is": "same"}, "style": {"is": "same"}}) == "same"
    assert compare.verdict({}) == ""


def test_the_sheet_has_a_case_per_photo_and_style_and_refuses_kinds_that_do_not_paint():
    photos = len(compare.SHEET_PHOTOS)
    assert photos >= 4 and len(compare.SHEET_PAINTINGS) >= 3
    assert len(compare.cases_for("multistyle26")) == 26 * photos
    two = compare.cases_for("multistyle26", styles=[(3, "a"), (5, "b")])
    assert [c.style for c in two[:1]] == [Network("multistyle26", index=3)] and {c.name for c in two} == {"a", "b"}
    single = compare.cases_for("transformer_net", slot="candy")
    assert len(single) == photos and all(c.style == Network("transformer_net", slot="candy") for c in single)
    arbitrary = compare.cases_for("magenta_predictor")
    assert len(arbitrary) == photos * len(compare.SHEET_PAINTINGS) and all(c.painting for c in arbitrary)
    with pytest.raises(Exception, match="Only the networks that paint"):
        compare.cases_for("sentence_encoder")


def test_the_sheet_is_kept_apart_from_the_training_photos():
    training = {p.name for p in (compare.SHEET.parent / "photos").iterdir()}
    assert not training & {p.name for p in compare.SHEET_PHOTOS}
    for path in compare.SHEET_PHOTOS + compare.SHEET_PAINTINGS:
        with Image.open(path) as img:
            assert max(img.size) <= 1024


def test_peak_memory_sees_what_a_block_allocated():
    # In a process of its own: in a long one (a test session, a worker) the allocator may hand out memory the
    # process already holds, which the figure (its growth in resident memory) does not count
    import subprocess
    import sys

    code = (
        "import torch\n"
        "from generator.ml import compare\n"
        "with compare.peak_memory(torch.device('cpu')) as peak:\n"
        "    block = torch.ones(64 * 2**20 // 4); block += 1\n"
        "print(peak())\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    if found == "None":
        pytest.skip("this system keeps no peak resident size that a process can reset (/proc/self/clear_refs)")
    assert 48 <= float(found) <= 200


def test_the_shipped_arbitrary_style_transformer_passes_its_own_upload_check(models, tmp_path: Path):
    weights = models[("magenta_transformer", "")]
    checked = validation.validate("magenta_transformer", weights.path, tmp_path / "w.safetensors", max_bytes=2**30)
    assert checked.sample is not None and checked.weights.sha256 == weights.sha256


def test_the_perceptual_network_is_compared_through_quality_mode_and_equal_weights_tie(models):
    cases = compare.cases_for("efficientnet_lite0")[:2]
    assert all(c.mode == "quality" and c.painting for c in cases)
    result = compare.compare(
        cases, kind="efficientnet_lite0", candidate=models, reference=models, judge=models, side=64, device="cpu"
    )
    summary = result.summary()
    assert summary["cases"] == 2 and {"structure", "style", "gram"} <= set(summary["mean"]["candidate"])
    for measure in ("structure", "style"):
        assert summary["changes"][measure]["is"] == "same"
        assert abs(summary["changes"][measure]["difference"]) < 1e-3
    assert summary["verdict"] == "same" and result.sheet is not None and result.sheet.width > 0


def test_the_upload_check_takes_a_26_style_network_with_styles_added_and_refuses_fewer_or_uneven_rows(
    models, tmp_path: Path
):
    from generator.ml.files import save_state
    from generator.ml.loading import from_file
    from generator.ml.training import add_style

    bigger, _ = add_style(from_file(models[("multistyle26", "")]))
    state = bigger.state_dict()
    save_state(state, tmp_path / "27.safetensors")
    checked = validation.validate(
        "multistyle26", tmp_path / "27.safetensors", tmp_path / "w.safetensors", max_bytes=2**30
    )
    assert checked.styles == 27 and checked.sample is not None
    fewer = {k: v[:25] if k.endswith((".gamma", ".beta")) else v for k, v in state.items()}
    save_state(fewer, tmp_path / "25.safetensors")
    with pytest.raises(validation.CheckpointError, match="hold 25 styles"):
        validation.validate("multistyle26", tmp_path / "25.safetensors", tmp_path / "x.safetensors", max_bytes=2**30)
    uneven = {k: v[:26] if k.startswith("contract.0.") and k.endswith(".gamma") else v for k, v in state.items()}
    save_state(uneven, tmp_path / "uneven.safetensors")
    with pytest.raises(validation.CheckpointError, match="disagree"):
        validation.validate(
            "multistyle26", tmp_path / "uneven.safetensors", tmp_path / "y.safetensors", max_bytes=2**30
        )
    assert not (tmp_path / "x.safetensors").exists() and not (tmp_path / "y.safetensors").exists()
