"""Teaching the writer to title an artwork from its subject words (Tate: subjects -> title), and
judging how well it does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from .prompting import clean, one_line

if TYPE_CHECKING:
    from transformers import LlamaForCausalLM

    from .writer import Writer


SUBJECTS_INSTRUCTION = "Suggest a title for an artwork with these subjects: {subjects}"
TRAIN_LAYERS = 4  # the last few decoder layers and the final norm learn; everything below stays as shipped


def subjects_instruction(subjects: str | Sequence[str]) -> str:
    """The instruction a title is fine-tuned (and then asked) for: "subjects: landscape, river, sun" or a list."""
    text = subjects if isinstance(subjects, str) else ", ".join(subjects)
    return SUBJECTS_INSTRUCTION.format(subjects=one_line(re.sub(r"^\s*subjects\s*:\s*", "", text, flags=re.I)))


def title_for_subjects(writer: Writer, subjects: str | Sequence[str], *, max_new_tokens: int = 16) -> str:
    """One title, greedy, for the skill `finetune_titles` teaches (first line of the answer, cleaned)."""
    raw = writer.complete(subjects_instruction(subjects), max_new_tokens=max_new_tokens, stop=("\n",))
    return clean(raw, title=True)


def judge_titles(writer: Writer, pairs: Sequence[tuple[str, str]], encode: Callable[[list[str]], torch.Tensor]) -> dict:
    """How near the titles the writer gives subject words come to the works' real titles, by meaning.

    Not the loss `finetune_titles` lowers: the sentence encoder (`encode`: texts -> unit vectors) reads
    the written and the real title, and the mean cosine is set beside the same mean against a real
    title of another work (the pairs rotated by one), the level that any plausible title reaches. An
    empty title counts as no similarity. Also the share of titles written empty and the share
    that are distinct (a model that gives every work the same title is not titling).
    """
    if len(pairs) < 2:
        raise ValueError("judge_titles needs at least two (subjects, title) pairs.")
    written = [title_for_subjects(writer, subjects) for subjects, _ in pairs]
    real = [title for _, title in pairs]
    vectors = encode([w or "-" for w in written] + real)
    mine, theirs = vectors[: len(pairs)], vectors[len(pairs) :]
    present = torch.tensor([1.0 if w else 0.0 for w in written])
    same = ((mine * theirs).sum(1) * present).mean()
    other = ((mine * theirs.roll(1, dims=0)).sum(1) * present).mean()
    return {
        "title_similarity": round(float(same), 4),
        "title_similarity_other_work": round(float(other), 4),
        "title_empty_share": round(1 - float(present.mean()), 4),
        "title_distinct_share": round(len(set(written)) / len(written), 4),
        "examples": [
            {"subjects": s, "real": t, "written": w} for (s, t), w in zip(pairs[:8], written[:8], strict=True)
        ],
    }


def finetune_titles(
    writer: Writer,
    pairs: Sequence[tuple[str, str]],
    *,
    held_out: Sequence[tuple[str, str]] = (),
    steps: int = 200,
    lr: float = 5e-5,
    batch_size: int = 8,
    seed: int = 0,
    train_layers: int = TRAIN_LAYERS,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict:
    """Teach the writer to title an artwork from its subject words, in place: (subjects, title) pairs.

    A causal-LM loss on the title's tokens (and the end of the turn) only; the instruction is context,
    not something to learn to write. AdamW over the last `train_layers` decoder layers and the final
    norm, nothing else: the embeddings are tied to the output layer and shared by every word the
    model knows, so a few hundred titles would bend them for everything, and leaving the lower layers
    alone keeps a step to seconds on a CPU (no gradient flows below the first trained layer). A writer
    from the registry's cache is shared by the process: fine-tune a copy of your own (``Writer.from_file``).

    Returns the losses (mean per target token) on `held_out` before and after, and the training curve.
    """
    if not pairs:
        raise ValueError("finetune_titles needs at least one (subjects, title) pair.")
    model = writer.model
    writer.forget()  # the cached prompt beginnings are the old weights' (and are again after a failed run)
    train = [_example(writer, subjects, title) for subjects, title in pairs]
    held = [_example(writer, subjects, title) for subjects, title in held_out]
    trained = _trainable(model, train_layers)
    model.requires_grad_(False)
    for p in trained:
        p.requires_grad_(True)
    count = sum(p.numel() for p in trained)
    before = _held_out_loss(writer, held, batch_size)
    optimiser = torch.optim.AdamW(trained, lr=lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(seed)
    order: list[int] = []
    curve: list[float] = []
    started = time.perf_counter()
    model.train()
    try:
        with torch.inference_mode(False), torch.enable_grad():
            for step in range(steps):
                while len(order) < batch_size:  # epochs in a seeded order, batches never short
                    order += torch.randperm(len(train), generator=generator).tolist()
                batch, order = [train[i] for i in order[:batch_size]], order[batch_size:]
                total, tokens = _batch_loss(writer, batch)
                loss = total / tokens
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trained, 1.0)
                optimiser.step()
                curve.append(float(loss.detach()))
                if progress:
                    progress(step + 1, steps, curve[-1])
    finally:
        model.eval().requires_grad_(False)
        writer.forget()
    return {
        "steps": steps,
        "pairs": len(train),
        "held_out_pairs": len(held),
        "trained_parameters": count,
        "held_out_loss_before": before,
        "held_out_loss_after": _held_out_loss(writer, held, batch_size),
        "train_loss_first": curve[0] if curve else None,
        "train_loss_last": _mean(curve[-10:]),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _trainable(model: LlamaForCausalLM, layers: int) -> list[nn.Parameter]:
    blocks = model.model.layers
    chosen = [p for block in blocks[len(blocks) - min(layers, len(blocks)) :] for p in block.parameters()]
    return chosen + list(model.model.norm.parameters())


def _example(writer: Writer, subjects: str, title: str) -> tuple[list[int], list[int]]:
    """(token ids, labels): the prompt's labels are -100, so only the title and the end of the turn are learnt."""
    prompt = writer.prompt_ids(subjects_instruction(subjects))
    target = writer.tokenizer.encode(one_line(title), add_special_tokens=False).ids
    end = writer.tokenizer.token_to_id(writer.stop_tokens[0]) if writer.stop_tokens else None
    target += [end] if end is not None else []
    return prompt + target, [-100] * len(prompt) + target


def _batch_loss(writer: Writer, batch: Sequence[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, int]:
    """The summed cross-entropy of a batch's target tokens, and how many there are (right-padded)."""
    width = max(len(ids) for ids, _ in batch)
    pad = writer.model.config.pad_token_id or 0
    ids = torch.tensor([x + [pad] * (width - len(x)) for x, _ in batch], device=writer.device)
    labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch], device=writer.device)
    mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch], device=writer.device)
    logits = writer.model(input_ids=ids, attention_mask=mask).logits[:, :-1]  # (N, T-1, vocab) predicts 1..T
    targets = labels[:, 1:]
    total = nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="sum"
    )
    return total, int((targets != -100).sum())


def _held_out_loss(writer: Writer, examples: Sequence[tuple[list[int], list[int]]], batch_size: int) -> float | None:
    if not examples:
        return None
    total, tokens = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            loss, n = _batch_loss(writer, examples[start : start + batch_size])
            total, tokens = total + float(loss), tokens + n
    return total / max(tokens, 1)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
