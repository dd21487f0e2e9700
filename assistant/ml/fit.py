"""The one training loop of the assistant's small classifiers (the heads and the LSTM baseline).

Examples are numbered 0..N-1 and each weighs something; a model's own code says how a batch of
those numbers becomes a loss, so one loop serves an embedding head and a word-level LSTM alike. The
same seed and data give the same model: the order of the examples comes from a generator of its
own, and the caller seeds torch before building the model (its initial weights and dropout).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Optimiser:
    """AdamW's settings, and what happens around each of its steps."""

    lr: float
    weight_decay: float = 0.0
    one_cycle: bool = False  # OneCycleLR up to lr and down again over the whole run (10 % warm-up)
    clip_norm: float | None = None  # the gradients' norm at most this (an LSTM's can spike early on)


def fit(
    model: nn.Module,
    weight: torch.Tensor,
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    *,
    optimiser: Optimiser,
    epochs: int,
    seed: int,
    batch_size: int,
    val_loss: Callable[[], torch.Tensor] | None = None,
    keep_best: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict:
    """Train `model` in place and leave it in eval mode; returns its history.

    `weight` (N,) is each example's weight; `batch_loss` takes a batch's indices and returns its
    weighted mean loss. With `val_loss` (the validation data's loss, run in eval mode without
    gradients) and `keep_best`, the epoch with the lowest one is kept, otherwise the last.
    """
    generator = torch.Generator().manual_seed(seed)
    adamw = torch.optim.AdamW(model.parameters(), lr=optimiser.lr, weight_decay=optimiser.weight_decay)
    schedule = None
    if optimiser.one_cycle:
        steps = epochs * ((len(weight) + batch_size - 1) // batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            adamw, max_lr=optimiser.lr, total_steps=max(steps, 1), pct_start=0.1
        )
    history: dict = {"epochs": [], "best_epoch": epochs}
    best, best_loss = None, float("inf")
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(weight), generator=generator)
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            if float(weight[idx].sum()) == 0:
                continue  # nothing to learn from (a multi-label row without labels weighs nothing)
            loss = batch_loss(idx)
            adamw.zero_grad()
            loss.backward()
            if optimiser.clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), optimiser.clip_norm)
            adamw.step()
            if schedule is not None:
                schedule.step()
            total += loss.item() * float(weight[idx].sum())
        row = {"epoch": epoch, "loss": total / max(float(weight.sum()), 1e-12)}
        if val_loss is not None:
            model.eval()
            with torch.no_grad():
                row["val_loss"] = float(val_loss())
            if keep_best and row["val_loss"] < best_loss:
                best_loss, best = row["val_loss"], copy.deepcopy(model.state_dict())
                history["best_epoch"] = epoch
        history["epochs"].append(row)
        if progress:
            progress(epoch, epochs, row.get("val_loss", row["loss"]))
    if best is not None:
        model.load_state_dict(best)
    model.eval()
    return history
