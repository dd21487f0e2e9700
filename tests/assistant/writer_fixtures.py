"""Stand-ins for the writer's tests: a tiny random Llama with a tokenizer of its own (seconds, not minutes),
a scripted writer for the prompt builders, and where the slow tests keep the real export between runs."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from assistant.ml import prompting, title_tuning
from assistant.ml import writer as ml_writer

# SmolLM2's own chat template, as its GGUF carries it
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# What artworks are called, and what they show: the tiny tokenizer learns its pieces from these.
SUBJECT_TITLES = [
    ("landscape, river, sun", "Sun over the River"),
    ("sea, boats, harbour", "Boats at Rest"),
    ("portrait, woman, hat", "Woman in a Hat"),
    ("forest, snow, night", "Snow in the Night Forest"),
    ("city, rain, street", "Rain on the Street"),
    ("flowers, vase, table", "Flowers on the Table"),
    ("mountain, lake, dawn", "Dawn at the Lake"),
    ("horse, field, summer", "Horse in a Summer Field"),
    ("church, village, hill", "The Village Church"),
    ("fruit, bowl, kitchen", "A Bowl of Fruit"),
    ("bridge, river, fog", "Bridge in the Fog"),
    ("garden, roses, path", "The Rose Path"),
    ("ship, storm, sea", "Ship in a Storm"),
    ("cat, window, sun", "Cat in the Sun"),
    ("train, station, smoke", "The Station"),
    ("dancer, stage, light", "The Dancer"),
]


def tiny_tokenizer_json(texts: Sequence[str]) -> str:
    """A byte-level BPE tokenizer trained on `texts`, with SmolLM2's three special tokens at its ids 0-2."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer.to_str()


def tiny_config(vocab_size: int) -> dict:
    return {
        "model_type": "llama",
        "vocab_size": vocab_size,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "tie_word_embeddings": True,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 2,
    }


def tiny_writer(seed: int = 0) -> ml_writer.Writer:
    """A 2-layer, 64-wide Llama, randomly initialised (the same way for the same seed)."""
    corpus = [f"{s} {t}" for s, t in SUBJECT_TITLES] + [
        prompting.SYSTEM,
        title_tuning.SUBJECTS_INSTRUCTION,
        "user assistant system a lighthouse in a storm at dusk",
    ]
    tokenizer_json = tiny_tokenizer_json(corpus)
    vocab = len(json.loads(tokenizer_json)["model"]["vocab"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ml_writer.Writer(tiny_config(vocab), tokenizer_json, CHAT_TEMPLATE).eval()


@dataclass
class ScriptedWriter:
    """Stands in for a Writer where only the prompt builders are under test: answers from a script,
    a few characters at a time, and notes what it was asked."""

    answers: list[str]
    calls: list[dict] = field(default_factory=list)

    def stream(self, instruction: str, **options) -> Iterator[str]:
        self.calls.append({"instruction": instruction, **options})
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        for start in range(0, len(answer), 5):
            yield answer[start : start + 5]


def cache_dir() -> Path:
    """Where the slow tests keep the exported writer: ARTSTUDIO_TEST_CACHE, or var/cache/test-writer."""
    default = Path(__file__).resolve().parents[2] / "var" / "cache" / "test-writer"
    return Path(os.environ.get("ARTSTUDIO_TEST_CACHE") or default)


def export_key() -> str:
    """Changes whenever the code that decides the exported file's bytes does, so a stale export is never reused."""
    parts = [
        inspect.getsource(f)
        for f in (
            ml_writer.read_gguf,
            ml_writer.export,
            ml_writer._metadata,
            ml_writer.save,
            ml_writer.Writer.weights,
            ml_writer.Writer.metadata,
        )
    ]
    parts += [str(ml_writer.EXPORT_DTYPE), repr(ml_writer.STOP_TOKENS), ml_writer.PACKAGE_SHA256]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
