"""The one table of model kinds: every network the studio runs, and what each needs.

Adding a kind is one entry here. The Django side reads this table for its choices (the model
registry's ``ModelVersion.kind``), the per-queue warm-up and upload validation; this module
imports no torch, so the web process can read it too.
"""

from __future__ import annotations

from dataclasses import dataclass

# The 26-style network holds the shipped styles and any learned since (a row each), up to a bound.
SHIPPED_STYLES = 26
MAX_STYLES = 64


@dataclass(frozen=True)
class Kind:
    value: str  # stored in the database; never rename one that has rows
    label: str
    # "package.module:Class", imported lazily (no torch import here). A class with a ``from_state(state,
    # metadata)`` classmethod is built from its file (its size, labels or tokenizer are in the metadata).
    network: str
    # How a validation smoke test runs an upload: "paint" (photo -> picture), "predict" (photo -> style
    # vector) or "features" (photo -> feature maps); "" where the kind's versions come only from a
    # package or from our own training (the assistant's text models), never from an upload.
    smoke: str
    warm_on: tuple[str, ...] = ()  # queues whose worker processes load it before their first job
    slotted: bool = False  # many models of the kind side by side, one per slot (e.g. per style)
    ignore: tuple[str, ...] = ()  # regexes of checkpoint keys dropped when an upload is fitted
    studio: bool = True  # paints (generator); False for the assistant's text models and the gallery's check

    @property
    def uploadable(self) -> bool:
        return bool(self.smoke)


_NETS = "generator.ml.nets"

KINDS: dict[str, Kind] = {
    k.value: k
    for k in (
        Kind(
            "magenta_predictor",
            "Arbitrary-style predictor",
            f"{_NETS}.magenta:StylePredictor",
            "predict",
            warm_on=("cpu", "gpu"),
        ),
        Kind(
            "magenta_transformer",
            "Arbitrary-style transformer",
            f"{_NETS}.magenta:StyleTransformer",
            "paint",
            warm_on=("cpu", "gpu"),
        ),
        Kind("multistyle26", "26-style network", f"{_NETS}.multistyle:MultiStyleNet", "paint", warm_on=("cpu", "gpu")),
        # pytorch/examples' fast_neural_style checkpoints; older ones carry InstanceNorm running stats
        Kind(
            "transformer_net",
            "Single-style network",
            f"{_NETS}.transformer_net:TransformerNet",
            "paint",
            slotted=True,
            ignore=(r"(^|\.)in\d+\.running_(mean|var)$", r"(^|\.)in\d+\.num_batches_tracked$"),
        ),
        # Quality mode's perceptual network; the assistant also reads its ImageNet classes off a picture
        Kind(
            "efficientnet_lite0",
            "Perceptual network",
            f"{_NETS}.efficientnet:EfficientNetLite0",
            "features",
            warm_on=("gpu",),
        ),
        # The creative assistant (assistant/ml): one sentence encoder, a classifier head per slot
        # (subject, movement, mood) trained on its embeddings, and the small language model that writes.
        Kind(
            "sentence_encoder",
            "Sentence encoder",
            "assistant.ml.encoder:SentenceEncoder",
            "",
            warm_on=("cpu", "text"),
            studio=False,
        ),
        Kind(
            "text_head", "Classifier head", "assistant.ml.heads:Head", "", slotted=True, warm_on=("cpu",), studio=False
        ),
        Kind("text_generator", "Text generator", "assistant.ml.writer:Writer", "", warm_on=("text",), studio=False),
        # The gallery's check before a picture is public (gallery/ml): nudity and sexual content
        Kind("open_nsfw", "Nudity check", "gallery.ml.open_nsfw:OpenNSFW", "", warm_on=("cpu",), studio=False),
    )
}


def get(value: str) -> Kind:
    try:
        return KINDS[value]
    except KeyError:
        raise ValueError(f"Unknown model kind {value!r}; known: {', '.join(KINDS)}.") from None


STUDIO_KINDS = tuple(k for k, spec in KINDS.items() if spec.studio)
