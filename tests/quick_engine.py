"""An engine that hands the photo back at once, with the versions it was given: for tests whose subject is not
painting (the gallery's), so that a finished artwork takes milliseconds. Patch it over ``engine.stylize``."""

from __future__ import annotations


def quick_stylize(photo, style, *, models, **kwargs):
    from generator.ml import engine
    from generator.ml.imaging import load_image
    from generator.ml.loading import ModelRef

    image = load_image(photo).convert("RGB")
    refs = tuple(ModelRef(w.kind, w.sha256, w.slot) for w in models.weights.values())
    return engine.StylizeResult(image, refs, "cpu", 0.01, image.size, 1)
