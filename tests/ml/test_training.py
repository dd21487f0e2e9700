"""Training a style (generator/ml/training.py): what learns, that it learns, stopping, resuming exactly."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from generator.ml import training
from generator.ml.errors import Cancelled, StyleError
from generator.ml.imaging import load_image, to_tensor
from generator.ml.loading import from_file
from generator.ml.nets.transformer_net import TransformerNet

TINY = training.TrainSettings(steps=6, size=64, batch=2, painting_side=96, sample_every=3, seed=1)


@pytest.fixture(scope="module")
def effnet(models):
    return from_file(models[("efficientnet_lite0", "")])


@pytest.fixture(scope="module")
def painting() -> Image.Image:
    return load_image(training.PHOTOS.parent / "styles" / "starry_night.jpg")


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return training.load_photos(training.training_photos()[:2])


def multistyle(models):
    return from_file(models[("multistyle26", "")])


def test_training_one_style_changes_only_that_styles_scale_and_shift(models, effnet, painting, photos):
    net = multistyle(models)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    trainer = training.Trainer(net, painting, photos, effnet, TINY, style=5)
    after = trainer.run()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.endswith((".gamma", ".beta")) for k in changed)
    for key in changed:  # row 5 moved; every other style's row is bit for bit what it was
        others = [i for i in range(26) if i != 5]
        assert torch.equal(before[key][others], after[key][others])
        assert not torch.equal(before[key][5], after[key][5])


def test_the_coarse_tone_term_sees_a_blot_not_a_change_of_contrast_or_fine_texture(photos):
    photo = torch.nn.functional.interpolate(to_tensor(photos[0]), size=(128, 128), mode="area")
    assert float(training.coarse_tone(photo, photo)) == pytest.approx(0.0, abs=1e-5)
    assert float(training.coarse_tone(0.3 + 0.5 * photo, photo)) == pytest.approx(0.0, abs=1e-5)
    hatched = photo.clone()
    hatched[..., ::3, :] *= 0.7  # strokes finer than a cell average away
    assert float(training.coarse_tone(hatched, photo)) < 0.01
    blotted = photo.clone()
    blotted[..., 8:56, 32:96] = 0.05  # a dark patch over several cells
    assert float(training.coarse_tone(blotted, photo)) > 0.1
    assert float(training.coarse_tone(1 - photo, photo)) == pytest.approx(2.0, abs=1e-4)  # light and shade reversed


def test_the_tone_weight_adds_the_tone_term_to_the_loss(models, effnet, painting, photos):
    torch.manual_seed(0)
    plain = training.Trainer(multistyle(models), painting, photos, effnet, TINY, style=2)
    fixed = plain.batch()
    toned = training.Trainer(
        multistyle(models),
        painting,
        photos,
        effnet,
        training.TrainSettings(**{**TINY.__dict__, "tone_weight": 3.0}),
        style=2,
    )
    with torch.no_grad():
        _, without = plain.losses(fixed)
        _, with_tone = toned.losses(fixed)
    assert without["tone"] == pytest.approx(with_tone["tone"]) and with_tone["tone"] > 0
    assert with_tone["total"] == pytest.approx(without["total"] + 3.0 * with_tone["tone"], rel=1e-5)


def test_a_new_style_is_a_row_added_to_the_network_and_trains_alone(models, effnet, painting, photos):
    net = multistyle(models)
    bigger, index = training.add_style(net)
    assert index == 26 and bigger.cfg.num_styles == 27 and net.cfg.num_styles == 26
    before = net.state_dict()
    for k, v in bigger.state_dict().items():
        if k.endswith((".gamma", ".beta")):  # the shipped rows, and their mean as the new style's start
            assert torch.equal(v[:26], before[k]) and torch.allclose(v[26], before[k].mean(dim=0))
        else:
            assert torch.equal(v, before[k])
    start = {k: v.clone() for k, v in bigger.state_dict().items()}
    after = training.Trainer(bigger, painting, photos, effnet, TINY, style=index).run()
    changed = {k for k in start if not torch.equal(start[k], after[k])}
    assert changed and all(k.endswith((".gamma", ".beta")) for k in changed)
    assert all(torch.equal(start[k][:26], after[k][:26]) for k in changed)  # the 26 shipped styles untouched


def test_the_network_holds_at_most_max_styles(models):
    from generator.ml.kinds import MAX_STYLES
    from generator.ml.nets.multistyle import MultiStyleConfig, MultiStyleNet

    full = MultiStyleNet(MultiStyleConfig(num_styles=MAX_STYLES))
    with pytest.raises(StyleError, match="the most it may"):
        training.add_style(full)


def test_the_style_loss_falls_as_a_single_style_network_learns(effnet, painting, photos):
    settings = training.TrainSettings(steps=40, size=64, batch=2, painting_side=96, seed=0, lr=5e-3)
    torch.manual_seed(0)
    trainer = training.Trainer(TransformerNet(), painting, photos, effnet, settings)
    fixed = trainer.batch()  # judged on one batch, before and after, so the crops' luck plays no part
    with torch.no_grad():
        _, first = trainer.losses(fixed)
    trainer.run()
    with torch.no_grad():
        _, last = trainer.losses(fixed)
    assert last["total"] < 0.8 * first["total"] and len(trainer.history) == 40


def test_a_run_reports_each_step_and_paints_samples_from_step_0(models, effnet, painting, photos):
    steps, sampled = [], []
    trainer = training.Trainer(multistyle(models), painting, photos, effnet, TINY, style=0)
    trainer.run(
        progress=steps.append,
        samples=lambda step, pictures: sampled.append((step, [p.size for p in pictures])),
        sample_photos=photos,
    )
    assert [s.step for s in steps] == [1, 2, 3, 4, 5, 6] and all(s.total == 6 for s in steps)
    assert set(steps[0].losses) == {"style", "content", "tv", "tone", "total"}
    assert [step for step, _ in sampled] == [0, 3, 6]
    assert all(max(size) <= TINY.sample_side for _, sizes in sampled for size in sizes)


def test_cancel_stops_a_run_at_the_next_step(models, effnet, painting, photos):
    trainer = training.Trainer(multistyle(models), painting, photos, effnet, TINY, style=0)
    with pytest.raises(Cancelled):
        trainer.run(cancel=lambda: trainer.step >= 2)
    assert trainer.step == 2


def test_a_run_resumed_from_its_checkpoint_ends_exactly_where_an_unbroken_one_does(
    models, effnet, painting, photos, tmp_path
):
    whole = training.Trainer(multistyle(models), painting, photos, effnet, TINY, style=2).run()

    checkpoint = tmp_path / "run.pt"
    first = training.Trainer(multistyle(models), painting, photos, effnet, TINY, style=2)
    with pytest.raises(Cancelled):  # a worker that dies after its checkpoint at step 3
        first.run(cancel=lambda: first.step >= 3 and (first.save(checkpoint) or True))
    resumed = training.Trainer(multistyle(models), painting, photos, effnet, TINY, style=2)
    after = resumed.run(checkpoint=checkpoint)
    assert resumed.step == 6 and len(resumed.history) == 6
    assert all(torch.equal(whole[k], after[k]) for k in whole)

    other = training.TrainSettings(**{**TINY.__dict__, "lr": 0.1})
    with pytest.raises(StyleError, match="other settings"):
        training.Trainer(multistyle(models), painting, photos, effnet, other, style=2).run(checkpoint=checkpoint)


@pytest.mark.parametrize(
    ("change", "says"),
    [({"size": 50}, "size"), ({"steps": 0}, "steps"), ({"lr": 0}, "lr"), ({"min_scale": 2}, "min_scale")],
)
def test_bad_settings_are_refused_with_the_settings_name(change, says):
    with pytest.raises(StyleError, match=f"setting {says}"):
        training.TrainSettings(**change).check()


def test_the_26_style_network_needs_a_style_and_the_photos_are_not_the_sheet(models, effnet, painting, photos):
    with pytest.raises(StyleError, match="26 styles"):
        training.Trainer(multistyle(models), painting, photos, effnet, TINY)
    with pytest.raises(StyleError, match="at least one"):
        training.Trainer(TransformerNet(), painting, [], effnet, TINY)
    from generator.ml.compare import SHEET_PHOTOS

    assert not {p.name for p in training.training_photos()} & {p.name for p in SHEET_PHOTOS}


def test_each_trainable_kind_has_checked_defaults_for_the_cpu_and_a_gpu():
    for kind in ("multistyle26", "transformer_net"):
        cpu, gpu = training.TrainSettings.defaults(kind, "cpu"), training.TrainSettings.defaults(kind, "cuda")
        assert cpu.check() and gpu.check() and gpu.steps * gpu.batch > cpu.steps * cpu.batch
    with pytest.raises(StyleError, match="not open_nsfw"):
        training.TrainSettings.defaults("open_nsfw")


def test_a_style_given_by_several_pictures_is_their_mean_gram(models, effnet, painting, photos):
    one = training.Trainer(multistyle(models), painting, photos, effnet, TINY, style=1)
    flipped = painting.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    both = training.Trainer(multistyle(models), [painting, flipped], photos, effnet, TINY, style=1)
    other = training.Trainer(multistyle(models), flipped, photos, effnet, TINY, style=1)
    for a, b, mean in zip(one.painting_grams, other.painting_grams, both.painting_grams, strict=True):
        assert torch.allclose((a + b) / 2, mean, atol=1e-6)
    with pytest.raises(StyleError, match="painting"):
        training.Trainer(multistyle(models), [], photos, effnet, TINY, style=1)
