"""A training run's admin page in a real browser: the loss chart (uPlot) is drawn, the samples load, the live
panel follows the run while it trains, and nothing breaks the Content-Security-Policy (tests/browser/conftest.py
fails the test on anything it blocked); also at a phone's width. The views themselves:
tests/web/test_training_admin.py."""

from __future__ import annotations

import io

import pytest

from tests.people import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

PAINTED = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
}"""


def sample(step: int, i: int) -> str:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 64), (40 * i, step % 256, 120)).save(buf, format="WEBP")
    return default_storage.save(f"training/samples/run-{step}-{i}.webp", ContentFile(buf.getvalue()))


def test_a_run_page_draws_its_loss_chart_and_samples_and_follows_the_run(new_page, worker_media):
    from playwright.sync_api import expect

    from generator.models import TrainingRun

    ROOT.create()
    run = TrainingRun.objects.create(
        name="Wave",
        kind="transformer_net",
        slot="wave",
        status=TrainingRun.Status.RUNNING,
        step=40,
        steps=300,
        steps_per_second=2.0,
        seconds=20.0,
        losses=[[s, 3.0 / s, 1.0 + 1 / s, 0.05, 4.0 / s + 1.1] for s in range(4, 44, 4)],
        samples=[{"step": step, "pictures": [sample(step, 0), sample(step, 1)]} for step in (0, 20)],
    )
    page = new_page()
    failures: list[str] = []
    page.on("console", lambda message: failures.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/login/")
    page.fill("#id_username", ROOT.username)
    page.fill("#id_password", ROOT.password)
    page.click("input[type=submit]")
    page.goto(f"/admin/generator/trainingrun/{run.pk}/change/")

    canvas = page.locator("#training-chart canvas")
    expect(canvas).to_be_visible()
    assert canvas.evaluate(PAINTED) > 1000  # the axes and four curves, not an empty canvas
    legend = page.locator("#training-chart .u-legend").inner_text()
    assert all(curve in legend for curve in ("style", "content", "smoothness (tv)", "total")), legend
    images = page.locator(".training-samples img")
    expect(images).to_have_count(4)
    for i in range(4):
        page.wait_for_function("img => img.complete && img.naturalWidth === 96", arg=images.nth(i).element_handle())

    # The worker reports: the panel follows within a poll or two
    run.step = 60
    run.losses = [*run.losses, [48, 0.06, 1.02, 0.05, 1.2]]
    run.samples = [*run.samples, {"step": 60, "pictures": [sample(60, 0), sample(60, 1)]}]
    run.save()
    expect(page.locator('[data-live="progress"]')).to_have_text("60 / 300", timeout=10_000)
    expect(page.locator(".training-samples tbody tr").last).to_have_attribute("data-step", "60")
    expect(images).to_have_count(6)

    # A phone: the chart fits the screen and is drawn again at its new width
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.querySelector('#training-chart canvas').clientWidth <= 390 - 20")
    assert canvas.evaluate(PAINTED) > 1000
    assert page.evaluate("() => document.querySelector('#training-chart').scrollWidth") <= 390

    # Finished: the polling stops and the cancel button goes
    run.status = TrainingRun.Status.CANCELLED
    run.save()
    expect(page.locator('[data-live="status"]')).to_have_text("Cancelled", timeout=10_000)
    expect(page.locator('[data-live="cancel"]')).to_be_hidden()
    assert failures == []


def test_the_add_form_shows_the_fields_of_what_is_trained(new_page, worker_media):
    from playwright.sync_api import expect

    ROOT.create()
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/login/")
    page.fill("#id_username", ROOT.username)
    page.fill("#id_password", ROOT.password)
    page.click("input[type=submit]")
    page.goto("/admin/generator/trainingrun/add/")
    style, slot = page.locator(".form-row.field-style_index"), page.locator(".form-row.field-slot")
    expect(style).to_be_visible()  # fine-tuning one of the 26 styles, the first choice
    expect(slot).to_be_hidden()
    page.check("input[name=kind][value=new_style]")
    expect(style).to_be_hidden()  # a new style takes the next free number
    expect(slot).to_be_visible()  # and a short name for its preset
    page.check("input[name=kind][value=transformer_net]")
    expect(style).to_be_hidden()
    expect(slot).to_be_visible()
    page.check("input[name=kind][value=multistyle26]")
    expect(style).to_be_visible()
    expect(slot).to_be_hidden()
