"""How much of a photo each preset keeps: measured by a worker with the active networks, again when they change, and
heeded by the assistant, which never suggests a style that would erase a picture it is asked about."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import TestCase
from factories import photo
from safetensors.torch import load_file
from test_model_registry import weights_upload

from assistant import services as assistant_services
from assistant.models import Idea
from generator import services
from generator.ml import compare, files
from generator.models import ModelVersion, Preset

pytestmark = pytest.mark.django_db

SMALL = {"side": 64, "photos": compare.SHEET_PHOTOS[:2]}  # the measure works alike on small pictures


@pytest.fixture
def measures_sent(monkeypatch) -> list[str]:
    sent: list[str] = []
    monkeypatch.setattr("generator.tasks.measure_presets.apply_async", lambda **kw: sent.append(kw["queue"]))
    return sent


def test_every_preset_is_measured_once_with_the_networks_active_now(tmp_path, measures_sent):
    assert services.presets_measure(**SMALL) == Preset.objects.count() == 31
    kept = dict(Preset.objects.values_list("slug", "keeps_photo"))
    assert all(-1 <= value <= 1 for value in kept.values())
    # The styles seen to erase the photo keep less of it than the styles seen to keep it
    assert kept["woven-bricks"] < kept["sepia-oil"] and kept["stained-glass"] < kept["the-scream"]
    assert services.presets_measure(**SMALL) == 0  # nothing changed: nothing to measure

    # Another 26-style network is active: its 26 presets are measured again, the paintings' are not
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    state = {k: v * 1.02 for k, v in load_file(active.weights.path).items()}
    path = tmp_path / "v2.safetensors"
    files.save_state(state, path)
    version = services.model_version_upload(
        kind="multistyle26", label="v2", validate="now", upload=weights_upload(path)
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.model_version_activate(version=version)
    assert measures_sent == ["cpu"]  # the activation asked a cpu worker to measure again
    assert services.presets_measure(**SMALL) == 26


def test_a_painting_an_admin_adds_is_measured_and_its_thumbnail_painted_by_a_worker(measures_sent, isolated_data):
    from factories import upload
    from PIL import Image

    from generator.ml.presets import REFERENCE_PHOTO

    data = (Path(compare.SHEET_PAINTINGS[0])).read_bytes()
    with TestCase.captureOnCommitCallbacks(execute=True):
        preset = services.preset_add_painting(
            name="Wave", painting=upload(data, "wave.jpg", "image/jpeg"), credit="Katsushika Hokusai, c. 1831"
        )
    assert measures_sent == ["cpu"] and preset.keeps_photo is None
    raw = Path(preset.thumbnail.path)
    with Image.open(raw) as img, Image.open(compare.SHEET_PAINTINGS[0]) as painting:  # the painting, smaller, for now
        assert img.width / img.height == pytest.approx(painting.width / painting.height, rel=0.02)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.presets_measure(**SMALL)
    preset.refresh_from_db()
    assert preset.keeps_photo is not None and preset.keeps_photo_with
    painted = Path(preset.thumbnail.path)
    assert painted != raw and not raw.exists()  # the old file went with the change
    with Image.open(painted) as img, Image.open(REFERENCE_PHOTO) as reference:  # the reference photo, painted
        assert img.format == "WEBP" and max(img.size) == 256
        assert img.width / img.height == pytest.approx(reference.width / reference.height, rel=0.02)


def test_a_worker_serving_cpu_asks_for_the_measures_when_it_starts(measures_sent, monkeypatch):
    from django.db import connections

    from generator import worker_process

    closed = []  # (in a worker, its connections are closed after: the pool forks from that process)
    monkeypatch.setattr(connections, "close_all", lambda: closed.append(True))
    monkeypatch.setattr(worker_process, "_worker_queues", ["text"])
    worker_process.measure_presets_at_start()
    assert measures_sent == []
    monkeypatch.setattr(worker_process, "_worker_queues", ["cpu", "gpu"])
    with TestCase.captureOnCommitCallbacks(execute=True):  # a worker's main process runs in autocommit
        worker_process.measure_presets_at_start()
    assert measures_sent == ["cpu"] and closed


def test_the_assistant_never_suggests_a_style_that_erases_a_picture(alice, assistant_models, monkeypatch, settings):
    monkeypatch.setattr("assistant.tasks.analyse_idea.delay", lambda idea_id: None)
    monkeypatch.setattr("assistant.tasks.write_idea.delay", lambda idea_id: None)
    keep = ["sepia-oil", "charcoal", "the-scream"]
    Preset.objects.update(keeps_photo=0.05)
    Preset.objects.filter(slug__in=keep).update(keeps_photo=0.6)
    settings.ARTSTUDIO_ERASES_BELOW = 0.2

    pictured = assistant_services.idea_create(owner=alice, text="", picture=photo())
    assistant_services.idea_analyse(idea_id=pictured.pk)
    pictured.refresh_from_db()
    suggested = [s["slug"] for s in pictured.analysis["styles"]]
    assert suggested and set(suggested) <= set(keep)
    assert len(pictured.analysis["left_out"]) == Preset.objects.count() - len(keep)

    # The same words without a picture: nothing to erase, so every style may be suggested
    typed = assistant_services.idea_create(owner=alice, text="a lighthouse in a storm at dusk")
    assistant_services.idea_analyse(idea_id=typed.pk)
    typed.refresh_from_db()
    assert typed.analysis["left_out"] == [] and typed.analysis["styles"]
    assert Idea.objects.count() == 2


def test_the_idea_page_says_which_styles_were_left_out_for_a_photo(alice, alice_client, assistant_models, monkeypatch):
    from django.urls import reverse

    monkeypatch.setattr("assistant.tasks.analyse_idea.delay", lambda idea_id: None)
    monkeypatch.setattr("assistant.tasks.write_idea.delay", lambda idea_id: None)
    Preset.objects.filter(slug="stained-glass").update(keeps_photo=0.01)
    pictured = assistant_services.idea_create(owner=alice, text="", picture=photo())
    assistant_services.idea_analyse(idea_id=pictured.pk)
    page = alice_client.get(reverse("assistant:idea", args=[pictured.pk])).content.decode()
    assert 'data-testid="styles-left-out"' in page and "Stained Glass" in page.split("styles-left-out")[1]


def test_the_task_measures_one_preset_a_time_and_a_broken_painting_stops_nothing(measures_sent):
    from django.core.files.base import ContentFile

    from generator import tasks

    broken = Preset.objects.create(slug="broken", name="Broken", kind=Preset.Kind.PAINTING, position=0)
    broken.painting.save("painting.jpg", ContentFile(b"not a picture"))
    tasks.measure_presets()
    assert measures_sent == ["cpu"]  # it queued itself for the next
    assert Preset.objects.exclude(keeps_photo_with="").count() == 1

    services.presets_measure(**SMALL)
    assert not Preset.objects.filter(keeps_photo_with="").exists()
    broken.refresh_from_db()
    assert broken.keeps_photo is None  # unknown, and not asked again for these networks
    assert not Preset.objects.exclude(pk=broken.pk).filter(keeps_photo__isnull=True).exists()
    tasks.measure_presets()  # nothing left: it does not queue itself again
    assert measures_sent == ["cpu"]


def test_a_paintings_credit_shows_wherever_its_name_does(alice, alice_client, no_broker):
    from django.urls import reverse
    from factories import make_job

    credit = "Vincent van Gogh, 1889 (public domain)"
    studio = alice_client.get(reverse("generator:studio")).content.decode()
    card = studio.split('id="preset-starry-night"')[1].split("</label>")[0]
    assert "The Starry Night" in card and credit in card and 'data-testid="preset-credit"' in card
    network_card = studio.split('id="preset-pop-outline"')[1].split("</label>")[0]
    assert "preset-credit" not in network_card  # the network's own styles have no painter to credit

    job = make_job(alice, style_preset="starry-night")
    page = alice_client.get(reverse("generator:job", args=[job.pk])).content.decode()
    assert f'data-testid="params-credit">({credit})' in page
