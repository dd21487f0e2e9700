"""A real worker measures the presets by itself when it starts: no command, one preset a task."""

from __future__ import annotations

import pytest

from generator import services
from generator.models import Preset
from tests.integration.worker import job_timeout, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]  # the worker must see committed rows


def test_a_worker_serving_cpu_measures_the_presets_left_unmeasured_when_it_starts(start_worker, worker_media):
    """The other integration tests' workers measure nothing (tests/integration/worker.py): this one measures the two
    presets that are not yet measured with the active networks, and leaves the others' figures alone."""
    presets = list(Preset.objects.order_by("position", "pk"))
    left = {presets[0].slug, presets[-1].slug}  # one of the 26-style network, one painting
    for preset in presets:
        if preset.slug not in left:
            key = services.measured_with(preset)
            assert key, f"{preset.slug} has no active network after the import"
            Preset.objects.filter(pk=preset.pk).update(keeps_photo=0.5, keeps_photo_with=key)

    worker = start_worker(ARTSTUDIO_MEASURE_PRESETS="1")

    def measured():
        return not Preset.objects.filter(slug__in=left, keeps_photo_with="").exists()

    wait_until(measured, timeout=job_timeout(), what="the two presets' measures", diagnose=worker.tail)
    for preset in Preset.objects.all():
        assert preset.keeps_photo_with == services.measured_with(preset)
        if preset.slug in left:
            assert preset.keeps_photo is not None and preset.keeps_photo != 0.5 and -1 <= preset.keeps_photo <= 1
        else:
            assert preset.keeps_photo == 0.5  # measured already with these networks: not painted again
