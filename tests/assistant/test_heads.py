"""The classifier heads, their metrics, the Tate reader and split, and the LSTM baseline, on small
synthetic data (no encoder, no database): seconds in all.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch

from assistant.ml import baseline, heads, tate, training
from generator.ml.files import load_state_with_metadata, save_state

LABELS = ("sea", "forest", "city")


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: on a busy 2-core CPU, two threads waiting on each other make these tests several times slower."""
    with training.threads(1):
        yield


def clusters(n_per: int = 40, dim: int = 384, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Three well-separated clusters of unit vectors, as sentence embeddings of three kinds of idea; the
    seed draws new points around the same three centres."""
    centres = torch.nn.functional.normalize(
        torch.randn(len(LABELS), dim, generator=torch.Generator().manual_seed(0)), dim=-1
    )
    g = torch.Generator().manual_seed(1000 + seed)
    X = centres.repeat_interleave(n_per, 0) + 0.05 * torch.randn(len(LABELS) * n_per, dim, generator=g)
    return torch.nn.functional.normalize(X, dim=-1), torch.arange(len(LABELS)).repeat_interleave(n_per)


def multi_hot(y: torch.Tensor) -> torch.Tensor:
    """Each example has its own label and, for "sea", "city" too: a multi-label problem with structure."""
    Y = torch.nn.functional.one_hot(y, len(LABELS)).float()
    Y[y == 0, 2] = 1
    return Y


def single_head(seed: int = 0) -> heads.Head:
    X, y = clusters()
    head, _ = heads.train_head(
        X, y, labels=LABELS, multi_label=False, X_val=None, Y_val=None, epochs=30, lr=1e-2, weight_decay=0.0, seed=seed
    )
    return head


# -- heads ----------------------------------------------------------------------------------------


def test_it_learns_a_separable_single_label_problem():
    X, y = clusters(seed=1)
    head = single_head()

    best = [row[0][0] for row in heads.predict(head, X, k=1)]
    assert best == [LABELS[i] for i in y.tolist()]


@pytest.mark.parametrize("hidden", [0, 32])
def test_it_learns_a_separable_multi_label_problem_and_picks_its_threshold_on_validation(hidden):
    X, y = clusters(seed=0)
    Xv, yv = clusters(seed=0, n_per=10)
    head, history = heads.train_head(
        X,
        multi_hot(y),
        labels=LABELS,
        multi_label=True,
        X_val=Xv,
        Y_val=multi_hot(yv),
        epochs=40,
        lr=1e-2,
        weight_decay=0.0,
        seed=0,
        hidden=hidden,
    )

    chosen = heads.predict_set(head, Xv)
    assert heads.micro_f1(chosen, [{LABELS[j] for j in row.nonzero().flatten().tolist()} for row in multi_hot(yv)]) == 1
    assert 0.05 <= head.threshold <= 0.95 and history["threshold"] == head.threshold


def test_it_trains_the_same_head_from_the_same_seed():
    a, b = single_head(seed=3), single_head(seed=3)

    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_a_saved_head_reloads_with_its_labels_threshold_and_the_same_predictions(tmp_path: Path):
    X, y = clusters()
    head, _ = heads.train_head(
        X,
        multi_hot(y),
        labels=LABELS,
        multi_label=True,
        X_val=X[::4],
        Y_val=multi_hot(y)[::4],
        epochs=5,
        lr=1e-2,
        weight_decay=0.0,
        seed=0,
        hidden=16,
    )
    state, metadata = head.to_state()
    sha = save_state(state, tmp_path / "subject.safetensors", {**metadata, "metrics": "{}"})

    again = heads.Head.from_state(*load_state_with_metadata(tmp_path / "subject.safetensors", sha))

    assert again.labels == LABELS and again.multi_label and again.threshold == head.threshold
    assert again.config == head.config
    assert heads.predict(again, X, k=3) == heads.predict(head, X, k=3)
    assert heads.predict_set(again, X) == heads.predict_set(head, X)


def test_it_ranks_best_first_and_single_label_confidences_sum_to_one():
    head = single_head()
    X, _ = clusters(seed=2)

    ranked = heads.predict(head, X[:5], k=3)
    full = heads.predict(head, X[:5], k=len(LABELS))

    for row in ranked:
        confidences = [c for _, c in row]
        assert confidences == sorted(confidences, reverse=True) and len(row) == 3
    assert all(sum(c for _, c in row) == pytest.approx(1.0, abs=1e-5) for row in full)


def test_it_refuses_a_set_from_a_single_label_head():
    with pytest.raises(ValueError, match="multi-label"):
        heads.predict_set(single_head(), clusters()[0][:1])


def test_it_weighs_examples_by_their_sample_weight():
    # Two contradicting copies of each point: the weights alone decide which label wins
    X, y = clusters(n_per=10)
    flipped = (y + 1) % len(LABELS)
    weight = torch.cat([torch.full((len(y),), 5.0), torch.full((len(y),), 0.2)])
    head, _ = heads.train_head(
        torch.cat([X, X]),
        torch.cat([flipped, y]),
        labels=LABELS,
        multi_label=False,
        X_val=None,
        Y_val=None,
        sample_weight=weight,
        epochs=30,
        lr=1e-2,
        weight_decay=0.0,
        seed=0,
    )

    assert [row[0][0] for row in heads.predict(head, X, k=1)] == [LABELS[i] for i in flipped.tolist()]


# -- metrics --------------------------------------------------------------------------------------


def test_micro_f1_pools_every_decision():
    # TP 3 (a, b, c), predicted 5, true 4: 2*3 / (5 + 4)
    pred = [{"a", "b", "x"}, {"c", "y"}, set()]
    true = [{"a", "b"}, {"c"}, {"z"}]

    assert heads.micro_f1(pred, true) == pytest.approx(6 / 9)
    assert heads.micro_f1([[("a", 0.9)]], [{"a"}]) == 1.0  # predict_set's pairs are read as labels
    assert heads.micro_f1([set()], [set()]) == 0.0


def test_precision_at_k_counts_out_of_k():
    ranked = [["a", "b", "c"], [("x", 0.5), ("a", 0.3), ("b", 0.2)]]
    true = [{"a", "c"}, {"q"}]

    assert heads.precision_at_k(ranked, true, 3) == pytest.approx((2 / 3 + 0) / 2)
    assert heads.precision_at_k(ranked, true, 1) == pytest.approx(0.5)


def test_top_k_accuracy_counts_any_accepted_label():
    ranked = [["Cubism", "Futurism", "Dada"], ["Rococo", "Baroque", "Renaissance"], ["Pop Art", "Dada", "Op Art"]]
    accept = [["Futurism"], ["Renaissance", "Neoclassicism"], ["Minimalism"]]

    assert heads.top_k_accuracy(ranked, accept, 1) == 0
    assert heads.top_k_accuracy(ranked, accept, 2) == pytest.approx(1 / 3)
    assert heads.top_k_accuracy(ranked, accept, 3) == pytest.approx(2 / 3)


# -- the Tate data --------------------------------------------------------------------------------


def test_the_split_is_fixed_disjoint_and_about_80_10_10():
    parts = [tate.split_of(i) for i in range(20_000)]

    assert parts == [tate.split_of(i) for i in range(20_000)]
    assert tate.split_of(1035) == tate.split_of("1035")  # the id, however it is typed
    shares = {name: parts.count(name) / len(parts) for name in ("train", "validation", "test")}
    assert shares["train"] == pytest.approx(0.8, abs=0.02)
    assert shares["validation"] == pytest.approx(0.1, abs=0.01) and shares["test"] == pytest.approx(0.1, abs=0.01)
    by = tate.by_part(tate.Record(id=i, title="x") for i in range(2000))
    ids = [{r.id for r in v} for v in by.values()]
    assert sum(map(len, ids)) == 2000 and not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("[title not known]", ""),
        ("Blank", ""),
        ("[blank]", ""),
        ("Untitled", ""),
        ("Untitled II", ""),
        ("III", ""),
        ("Untitled (Street)", "Street"),
        ("Untitled Cave", "Cave"),
        ("Blanket", "Blanket"),
        ("The Preaching of Warning. Verso: An Old Man Enthroned", "The Preaching of Warning"),
        ("Verses (Inscriptions by Turner)", "Verses (Inscriptions by Turner)"),
        ("Sketch", ""),
    ],
)
def test_it_reads_a_title_without_the_cataloguers_placeholders(title, text):
    assert tate.title_text(title) == text


def tate_file(path: Path, rows: list[dict]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


def test_it_parses_a_tate_file(tmp_path: Path):
    path = tate_file(
        tmp_path / "artworks.jsonl.gz",
        [
            {
                "id": 1,
                "title": "Stormy Sea. Verso: Blank",
                "artist": "Joseph Mallord William Turner",
                "date": "1840",
                "subjects0": ["nature"],
                "subjects1": ["seascapes and coasts", "weather"],
                "subjects2": ["storm", "fear"],
                "movements": ["Romanticism"],
            },
            {"id": 2, "title": "[title not known]", "subjects0": [], "subjects1": [], "subjects2": [], "movements": []},
        ],
    )

    first, second = tate.read_records(path)

    assert first.text == "Stormy Sea" and first.subjects[1] == ("seascapes and coasts", "weather")
    assert first.movements == ("Romanticism",) and first.artist.startswith("Joseph")
    assert second.text == "" and second.subjects == ((), (), ())


def test_the_subject_vocabulary_is_counted_on_training_titles_only():
    train = [
        tate.Record(id=i, title="t", text="t", subjects=(("nature",) if i % 2 else ("people",), (), ()))
        for i in range(10)
    ] + [tate.Record(id=99, title="", text="", subjects=(("objects",), (), ()))]

    assert tate.subject_vocabulary(train, 0, min_support=5) == ("nature", "people")
    assert tate.subject_vocabulary(train, 0, min_support=6) == ()


def test_a_catalogue_maps_tate_terms_to_its_labels(tmp_path: Path):
    (tmp_path / "moods.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "label": "calm",
                    "tate": ["serenity", "Contemplation"],
                    "description": "Still.",
                    "prompts": ["a lake"],
                },
                {
                    "label": "fear",
                    "tate": ["fear", "horror"],
                    "description": "Dread.",
                    "prompts": ["a storm", "a wolf"],
                },
            ]
        )
    )
    catalogue = tate.read_catalogue(tmp_path / "moods.jsonl")

    assert catalogue.labels == ("calm", "fear")
    assert catalogue.labels_for(["contemplation", "storm", "horror"]) == {"calm", "fear"}


def test_tate_titles_weigh_no_more_than_the_share_they_are_given(tmp_path: Path):
    (tmp_path / "m.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "label": "Pop Art",
                    "tate": ["British Pop"],
                    "description": "Bright.",
                    "prompts": ["a", "b", "c", "d"],
                },
                {"label": "Ukiyo-e", "tate": [], "description": "Woodblock.", "prompts": ["e", "f", "g", "h"]},
            ]
        )
    )
    catalogue = tate.read_catalogue(tmp_path / "m.jsonl")
    rows = [(f"title {i}", {"Pop Art"}) for i in range(100)]

    examples = training.catalogue_examples(catalogue, rows, tate_share=0.5, description_weight=3.0)

    by_source: dict[str, float] = {}
    for source, w in zip(examples.source, examples.weight, strict=True):
        by_source[source] = by_source.get(source, 0.0) + w
    assert by_source["tate"] == pytest.approx(0.5 * 4)  # a hundred titles weigh half the label's four prompts
    assert by_source["prompt"] == 8 and by_source["description"] == 6


# -- the LSTM baseline ----------------------------------------------------------------------------


TOY = {
    "sea": ["waves on the shore", "a ship at sea", "the harbour at dawn", "storm over the sea"],
    "forest": ["tall trees in mist", "a path through the woods", "deer among the trees", "ferns in the forest"],
    "city": ["a busy street", "towers of the city", "traffic at night", "the city square"],
}


def test_the_lstm_baseline_learns_a_toy_problem_and_reloads(tmp_path: Path):
    texts = [t for label in LABELS for t in TOY[label]] * 5
    y = torch.tensor([i for i, label in enumerate(LABELS) for _ in TOY[label]] * 5)

    model, history = baseline.train_lstm(
        texts,
        y,
        labels=LABELS,
        multi_label=False,
        texts_val=None,
        Y_val=None,
        vocabulary=baseline.build_vocabulary(texts, min_count=1),
        epochs=25,
        lr=1e-2,
        seed=0,
        batch_size=16,
    )

    assert [row[0][0] for row in baseline.predict(model, texts[:12], k=1)] == [LABELS[i] for i in y[:12].tolist()]
    assert history["epochs"][-1]["loss"] < history["epochs"][0]["loss"]
    state, metadata = model.to_state()
    sha = save_state(state, tmp_path / "lstm.safetensors", metadata)
    again = baseline.LSTMClassifier.from_state(*load_state_with_metadata(tmp_path / "lstm.safetensors", sha))
    odd = ["unheard words entirely", "sea"]
    assert baseline.predict(again, odd, k=3) == baseline.predict(model, odd, k=3)


def test_the_lstm_tokenizer_lowercases_and_maps_unknown_words():
    vocabulary = baseline.build_vocabulary(["The sea, the SEA!", "sea"], min_count=2)
    model = baseline.LSTMClassifier(baseline.LSTMConfig(len(vocabulary), 2), vocabulary, ("a", "b"), multi_label=False)

    ids, lengths = model.encode_texts(["Sea dragons", ""])

    assert baseline.tokenize("Château d’Eau, 1902") == ["chateau", "d'eau", "1902"]
    assert vocabulary[:2] == (baseline.PAD, baseline.UNK) and set(vocabulary[2:]) == {"sea", "the"}
    assert ids[0].tolist() == [vocabulary.index("sea"), 1] and lengths.tolist() == [2, 1]


def test_the_lstm_baseline_sets_a_multi_label_threshold_on_validation():
    texts = [t for label in LABELS for t in TOY[label]] * 3
    y = torch.tensor([i for i, label in enumerate(LABELS) for _ in TOY[label]] * 3)
    Y = multi_hot(y)

    model, history = baseline.train_lstm(
        texts,
        Y,
        labels=LABELS,
        multi_label=True,
        texts_val=texts,
        Y_val=Y,
        vocabulary=baseline.build_vocabulary(texts, min_count=1),
        epochs=20,
        lr=1e-2,
        seed=0,
        batch_size=16,
    )

    assert model.threshold == history["threshold"] and 0.01 <= model.threshold <= 0.95
    assert (
        heads.micro_f1(
            baseline.predict_set(model, texts), [{LABELS[j] for j in r.nonzero().flatten().tolist()} for r in Y]
        )
        > 0.8
    )


# -- the embedding cache --------------------------------------------------------------------------


def test_the_embedding_cache_embeds_each_text_once_and_keeps_them_on_disk(tmp_path: Path):
    calls: list[list[str]] = []

    def encode(texts):
        calls.append(list(texts))
        return torch.stack([torch.full((384,), float(len(t))) for t in texts])

    first = training.EmbeddingCache(tmp_path, "k" * 64).embed(["ab", "abc", "ab"], encode)
    again = training.EmbeddingCache(tmp_path, "k" * 64).embed(["abc", "abcd"], encode)

    assert first[:, 0].tolist() == [2, 3, 2] and again[:, 0].tolist() == [3, 4]
    assert calls == [["ab", "abc"], ["abcd"]]
