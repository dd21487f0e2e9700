"""The studio blends styles with weights: recorded with the job, shown, found by style, remixable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from factories import make_job, photo

from gallery import selectors as gallery
from generator import registry, services
from generator.ml.engine import Blend, Network
from generator.ml.options import PAINTING_PART, JobOptions
from generator.models import Job

pytestmark = pytest.mark.django_db

TWO_NETWORK_STYLES = (("pop-outline", 0.75), ("cobalt-strokes", 0.25))


def test_a_blend_is_kept_in_the_params_and_read_back():
    options = JobOptions(blend=TWO_NETWORK_STYLES)
    params = options.to_params()

    assert params["blend"] == [["pop-outline", 0.75], ["cobalt-strokes", 0.25]]
    assert JobOptions.from_params(params) == options
    assert options.blend_weights == [("pop-outline", 75), ("cobalt-strokes", 25)]
    assert JobOptions.from_params({"style_preset": "udnie"}).blend == ()  # a job from before blends


@pytest.mark.parametrize(
    "blend",
    [
        (("pop-outline", 1.0),),  # one style is not a blend
        (("pop-outline", 0.5), ("pop-outline", 0.5)),  # the same twice
        (("pop-outline", 0.0), ("udnie", 0.0)),  # nothing weighs
        (("pop-outline", 1.5), ("udnie", 0.5)),  # past the range
        (("a", 0.2), ("b", 0.2), ("c", 0.2), ("d", 0.2)),  # four
    ],
)
def test_a_blend_that_does_not_fit_is_refused_with_a_sentence(alice, no_broker, blend):
    with pytest.raises(ValidationError) as refused:
        make_job(alice, style_preset=None, blend=blend)
    assert "blend" in refused.value.message_dict
    assert Job.objects.count() == 0


def test_a_blend_names_styles_the_studio_has(alice, no_broker):
    with pytest.raises(ValidationError, match="no style called"):
        make_job(alice, style_preset=None, blend=(("pop-outline", 0.5), ("no-such-style", 0.5)))


def test_a_blend_with_the_artists_own_painting_needs_the_painting(alice, no_broker):
    with pytest.raises(ValidationError, match="needs the painting"):
        make_job(alice, style_preset=None, blend=(("udnie", 0.5), (PAINTING_PART, 0.5)))
    job = make_job(
        alice,
        style_preset=None,
        blend=(("udnie", 0.5), (PAINTING_PART, 0.5)),
        style_image=photo("mine.jpg", fmt="JPEG"),
    )
    chosen = registry.for_job(job)
    assert isinstance(chosen.style, Blend) and isinstance(chosen.style.parts[1][0], bytes)


def test_network_styles_blend_in_the_26_style_network_alone(alice, no_broker):
    chosen = registry.for_job(make_job(alice, style_preset=None, blend=TWO_NETWORK_STYLES))

    assert [type(part) for part, _ in chosen.style.parts] == [Network, Network]
    assert [w for _, w in chosen.style.parts] == [0.75, 0.25]
    assert {v.kind for v in chosen.versions} == {"multistyle26"}


def test_a_blend_with_a_painting_needs_the_arbitrary_style_networks_too(alice, no_broker):
    chosen = registry.for_job(make_job(alice, style_preset=None, blend=(("pop-outline", 0.5), ("udnie", 0.5))))
    assert {v.kind for v in chosen.versions} == {"multistyle26", "magenta_predictor", "magenta_transformer"}


def test_a_blend_paints_and_the_artwork_says_what_it_blended(alice_client, alice, no_broker):
    job = make_job(alice, style_preset=None, blend=TWO_NETWORK_STYLES)

    artwork = services.job_run(job_id=job.pk)  # the real engine

    assert artwork is not None and artwork.title == "Pop Outline + Cobalt Strokes"
    page = alice_client.get(artwork.get_absolute_url()).content.decode()
    assert "Pop Outline 75% + Cobalt Strokes 25%" in page
    assert {v.kind for v in artwork.model_versions.all()} == {"multistyle26"}


def test_the_studio_posts_a_blend(alice_client, alice, no_broker):
    response = alice_client.post(
        reverse("generator:studio"),
        {
            "photo": photo(),
            "style_source": "blend",
            "blend_1": "pop-outline",
            "blend_1_weight": "0.75",
            "blend_2": "cobalt-strokes",
            "blend_2_weight": "0.25",
            "blend_3": "",
            "strength": "1",
            "brush": "1",
            "max_side": "512",
            "mode": "fast",
        },
    )

    job = Job.objects.get()
    assert response.status_code == 302 and job.options.blend == TWO_NETWORK_STYLES
    assert job.options.style_preset is None and not job.style_image


@pytest.mark.parametrize("second", ["", "pop-outline"])
def test_the_studio_asks_for_two_different_styles(alice_client, no_broker, second):
    response = alice_client.post(
        reverse("generator:studio"),
        {
            "photo": photo(),
            "style_source": "blend",
            "blend_1": "pop-outline",
            "blend_2": second,
            "strength": "1",
            "brush": "1",
            "max_side": "512",
            "mode": "fast",
        },
    )
    assert response.status_code == 400 and 'data-testid="errors-blend"' in response.content.decode()
    assert Job.objects.count() == 0


def test_a_blend_is_remixed_as_a_blend(alice_client, alice, paint):
    artwork = paint(alice, style_preset=None, blend=TWO_NETWORK_STYLES)

    page = alice_client.get(reverse("generator:studio"), {"remix": artwork.pk}).content.decode()

    assert 'id="style-source-blend" checked' in page
    assert '<option value="cobalt-strokes" selected>' in page and 'value="0.25"' in page


def test_the_gallery_finds_a_blend_by_each_of_its_styles(alice, paint):
    blend = paint(alice, style_preset=None, blend=TWO_NETWORK_STYLES)
    alone = paint(alice, style_preset="cobalt-strokes")
    painting = paint(alice, style_preset=None, style_image=photo("mine.jpg", fmt="JPEG"))

    def shown(**view):
        return set(gallery.artworks_in_view(user=alice, view=gallery.GalleryView(**view)).values_list("pk", flat=True))

    assert shown(style="pop-outline") == {blend.pk}
    assert shown(style="cobalt-strokes") == {blend.pk, alone.pk}
    assert shown(style=gallery.PAINTING) == {painting.pk}
    assert shown(q="pop outline") == {blend.pk}


def test_pictures_painted_before_the_styles_column_get_theirs_from_their_parameters(alice, paint):
    from importlib import import_module

    from django.apps import apps

    from generator.models import Artwork

    blend = paint(alice, style_preset=None, blend=TWO_NETWORK_STYLES)
    alone = paint(alice, style_preset="cobalt-strokes")
    painting = paint(alice, style_preset=None, style_image=photo("mine.jpg", fmt="JPEG"))
    Artwork.objects.update(styles="")  # as the column's migration finds them

    import_module("generator.migrations.0008_artwork_styles").fill(apps, None)

    assert dict(Artwork.objects.values_list("pk", "styles")) == {
        blend.pk: " pop-outline cobalt-strokes ",
        alone.pk: " cobalt-strokes ",
        painting.pk: "",
    }
