"""Teaching the writer to title works from their subjects, on a tiny random Llama (seconds, not minutes)."""

from __future__ import annotations

import torch

from assistant.ml import title_tuning
from assistant.ml import writer as ml_writer
from tests.assistant.writer_fixtures import SUBJECT_TITLES, tiny_writer


def test_finetuning_lowers_the_held_out_loss_of_a_tiny_model_and_touches_only_the_top(tmp_path):
    writer = tiny_writer(seed=1)
    embeddings = writer.model.model.embed_tokens.weight.clone()
    first_layer = writer.model.model.layers[0].mlp.up_proj.weight.clone()
    steps = []

    report = title_tuning.finetune_titles(
        writer,
        SUBJECT_TITLES[:12],
        held_out=SUBJECT_TITLES[12:],
        steps=60,
        lr=3e-2,
        batch_size=6,
        seed=0,
        train_layers=1,
        progress=lambda step, total, loss: steps.append(step),
    )

    assert report["held_out_loss_after"] < report["held_out_loss_before"] - 0.2
    assert report["train_loss_last"] < report["train_loss_first"] - 1.0  # from ln(400) = 6.0, a random guess
    assert steps == list(range(1, 61))
    assert torch.equal(writer.model.model.embed_tokens.weight, embeddings)  # tied to the output: left alone
    assert torch.equal(writer.model.model.layers[0].mlp.up_proj.weight, first_layer)
    assert not any(p.requires_grad for p in writer.parameters()) and not writer.training
    sha = ml_writer.save(writer, tmp_path / "tuned.safetensors")
    tuned = ml_writer.Writer.from_file(tmp_path / "tuned.safetensors", sha)
    assert title_tuning.title_for_subjects(tuned, "subjects: sea, boats, harbour") == title_tuning.title_for_subjects(
        writer, ["sea", "boats", "harbour"]
    )


def test_the_finetuning_loss_reads_only_the_title():
    writer = tiny_writer()
    ids, labels = title_tuning._example(writer, "river, sun", "Sun over the River")

    prompt = writer.prompt_ids(title_tuning.subjects_instruction("river, sun"))
    assert ids[: len(prompt)] == prompt and labels[: len(prompt)] == [-100] * len(prompt)
    assert writer.tokenizer.decode(labels[len(prompt) :], skip_special_tokens=False) == "Sun over the River<|im_end|>"
