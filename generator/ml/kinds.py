"""The one table of model kinds: every network the studio runs, and what each needs.

Adding a kind is one entry here. The Django side reads this table for its choices (the model
registry's ``ModelVersion.kind``), the per-queue warm-up and upload validation; this module
imports no torch, so the web process can read it too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    value: str  # stored in the database; never rename one that has rows
    label: str
    network: str  # "module:Class" under generator.ml.nets, built lazily (no torch import here)
    # How a validation smoke test runs it: "paint" (photo -> picture), "predict" (photo -> style
    # vector) or "features" (photo -> feature maps).
    smoke: str
    warm_on: tuple[str, ...] = ()  # queues whose worker processes load it before their first job
    slotted: bool = False  # many models of the kind side by side, one per slot (e.g. per style)
    ignore: tuple[str, ...] = ()  # regexes of checkpoint keys dropped when an upload is fitted


KINDS: dict[str, Kind] = {
    k.value: k
    for k in (
        Kind("magenta_predictor", "Arbitrary-style predictor", "magenta:StylePredictor", "predict",
             warm_on=("cpu", "gpu")),
        Kind("magenta_transformer", "Arbitrary-style transformer", "magenta:StyleTransformer", "paint",
             warm_on=("cpu", "gpu")),
        Kind("multistyle26", "26-style network", "multistyle:MultiStyleNet", "paint", warm_on=("cpu", "gpu")),
        # pytorch/examples' fast_neural_style checkpoints; older ones carry InstanceNorm running stats
        Kind("transformer_net", "Single-style network", "transformer_net:TransformerNet", "paint", slotted=True,
             ignore=(r"(^|\.)in\d+\.running_(mean|var)$", r"(^|\.)in\d+\.num_batches_tracked$")),
        Kind("efficientnet_lite0", "Perceptual network", "efficientnet:EfficientNetLite0", "features",
             warm_on=("gpu",)),
    )
}


def get(value: str) -> Kind:
    try:
        return KINDS[value]
    except KeyError:
        raise ValueError(f"Unknown model kind {value!r}; known: {', '.join(KINDS)}.") from None
