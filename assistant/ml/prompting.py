"""What the studio asks the writer, and what it keeps of the answers. No torch here (a test proves it):
the prompts and the filters are plain text, tested without a model.

The language model never classifies: the studio's classifier heads choose the labels (movements,
subjects, moods) and the writer only reads them in its instruction. Everything it writes goes
through ``clean`` and ``is_junk`` before an artist sees it, because a 135M model rambles, repeats,
echoes the prompt and sometimes apologises instead of answering.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .writer import Writer

# Every request opens with it: the writer's default system turn (see Writer.prompt_ids)
SYSTEM = "You are a helpful assistant to a painter. You answer briefly and only with what was asked."


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
        return self.instruction.format(idea=one_line(idea), labels=labels_line(labels), k=self.k)

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
    sentences: bool = False,
) -> list[str]:
    """The usable lines of a list the model wrote, cleaned, without junk or duplicates (of each other or
    `seen`), nor lines copied from the examples (see ``Ask.telltales``). With `sentences`, a line must end as a
    sentence does: one the token limit cut ("A lone figure sits on a hill, lost in") is left out."""
    kept: list[str] = []
    for line in raw.splitlines():
        # "1. Dusk 2. Gale" on one line is two candidates
        for part in re.split(r"\s+(?=\(?\d{1,2}[.)]\s)", line):
            text = clean(part, title=title)
            if (sentences and not _ENDS_A_SENTENCE.search(text)) or unasked(text, idea):
                continue
            if not is_junk(text, idea, seen=[*seen, *kept], max_words=max_words, title=title) and not copies_example(
                text, idea, telltales
            ):
                kept.append(text)
    return kept


_ENDS_A_SENTENCE = re.compile(r"[.!?…][\"”’')]*$")

# Violence, gore and sex, as families of whole words: a candidate with a word of a family is left out unless the
# idea has a word of the same family (a battle may bleed; a raccoon is not devoured, a greenhouse is not "The
# House of the Dead").
UNASKED_FAMILIES = (
    re.compile(
        r"\b(?:kill\w*|murder\w*|blood\w*|bleed\w*|gore|gory|corpses?|butcher\w*|slaughter\w*|stab\w*|wound\w*"
        r"|tortur\w*|devour\w*|eat you|dead|death\w*|dying|die[sd]?|weapons?|guns?|rifles?|knife|knives|swords?"
        r"|wars?|battle\w*|fight\w*|hunt\w*|soldiers?|violen\w*|horror\w*|ghosts?|grave\w*|funeral\w*)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:naked|nude\w*|nudity|sex\w*|erotic\w*|breasts?|seduc\w*|rape[ds]?)\b", re.IGNORECASE),
)


def unasked(text: str, idea: str) -> bool:
    """Whether `text` brings violence, gore or sex that `idea` did not ask for."""
    return any(family.search(text) and not family.search(idea) for family in UNASKED_FAMILIES)


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
    for p in whole:  # (none whole: nothing, and the description is written again)
        if _key(p) in {_key(k) for k in kept} or copies_example(p, idea, telltales) or unasked(p, idea):
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


# (candidates, references) -> for each candidate, whether it reads nearer another reference than the first (the
# idea): the studio answers it with the sentence encoder (assistant.ml.assist.Assistant.nearer).
Nearer = Callable[[list[str], list[str]], list[bool]]


def about_the_idea(found: list[str], idea: str, ask: Ask, nearer: Nearer | None) -> list[str]:
    """The candidates that read nearer the artist's idea than any of the instruction's worked examples: one
    nearer an example (the heron's marsh for a raccoon) was copied from it, whatever its words. For sentences
    (prompts, a description); titles are too short to be told apart this way."""
    if nearer is None or not found:
        return found
    examples = [f"{example}. {answer}" for example, _labels, answer in ask.examples]
    leaked = nearer(found, [idea, *examples])
    return [candidate for candidate, copied in zip(found, leaked, strict=True) if not copied]


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


# -- the answer, item by item ---------------------------------------------------------------------------
# Nothing the model drafts is shown as it is written: a draft holds junk until it is cleaned and chosen from
# (a butcher's passage for a raccoon, the instruction's heron, a prompt cut off mid-sentence). Each section
# yields (section, what it holds so far) once per item that is complete and has passed the filters: a list that
# grows by one for "titles" and "expansions", the text for "description". A Celery task stores each as it comes.

Event = tuple[str, "str | list[str]"]


class Cancelled(Exception):
    """The caller's `cancelled()` said stop: the writing ends between two tokens."""


def stream_titles(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    *,
    n: int = 3,
    rank: Callable[[list[str]], Sequence[float]] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[Event]:
    found: list[str] = []
    for temperature, seed in TRIES:
        raw = _draft(writer, TITLES, idea, labels, temperature, seed, lines=TITLES.k, cancelled=cancelled)
        # (telltale words only: a short title reads as much like the examples' titles as like the idea, so the
        # encoder's nearness would drop good ones, "The Keeper" for a lighthouse among them)
        found += candidates(raw, idea, seen=found, title=True, max_words=8, telltales=TITLES.telltales)
        if len(found) >= max(n, TITLES.k // 2):  # enough to choose from: the ranking has work to do
            break
    yield from _one_by_one("titles", best(found, n, rank))


def stream_expansions(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    *,
    n: int = 3,
    rank: Callable[[list[str]], Sequence[float]] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    nearer: Nearer | None = None,
) -> Iterator[Event]:
    found: list[str] = []
    for temperature, seed in TRIES:
        raw = _draft(writer, EXPANSIONS, idea, labels, temperature, seed, lines=EXPANSIONS.k, cancelled=cancelled)
        written = candidates(raw, idea, seen=found, max_words=45, telltales=EXPANSIONS.telltales, sentences=True)
        found += about_the_idea(written, idea, EXPANSIONS, nearer)
        if len(found) >= n:
            break
    # EXPANSIONS.k (4) written for n (3) kept: the one that wandered furthest from the idea is left out,
    # and the rest keep the order they were written in
    kept = set(best(found, n, rank))
    yield from _one_by_one("expansions", [x for x in found if x in kept][:n])


def stream_description(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    *,
    cancelled: Callable[[], bool] = lambda: False,
    nearer: Nearer | None = None,
) -> Iterator[Event]:
    text = ""
    for temperature, seed in TRIES[:2]:
        raw = _draft(writer, DESCRIPTION, idea, labels, temperature, seed, sentences=DESCRIPTION.k, cancelled=cancelled)
        text = clean_description(raw, idea, sentences=DESCRIPTION.k, telltales=DESCRIPTION.telltales)
        if text := " ".join(about_the_idea([text], idea, DESCRIPTION, nearer)) if text else "":
            break
    yield "description", text


def _one_by_one(section: str, items: list[str]) -> Iterator[Event]:
    if not items:
        yield section, []
    for i in range(len(items)):
        yield section, items[: i + 1]


def write_all(
    writer: Writer,
    idea: str,
    labels: Mapping[str, Sequence],
    *,
    n: int = 3,
    rank: Callable[[list[str]], Sequence[float]] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    nearer: Nearer | None = None,
) -> Iterator[Event]:
    """Titles, richer prompts and a description for one idea, item by item (see above), in the page's order.
    Raises Cancelled as soon as `cancelled()` is true (it is asked every few tokens). With `nearer`, what reads
    nearer a worked example than the idea is left out (``about_the_idea``)."""
    yield from stream_titles(writer, idea, labels, n=n, rank=rank, cancelled=cancelled)
    yield from stream_expansions(writer, idea, labels, n=n, rank=rank, cancelled=cancelled, nearer=nearer)
    yield from stream_description(writer, idea, labels, cancelled=cancelled, nearer=nearer)


SECTION_NAMES = (("titles", "Titles"), ("expansions", "Richer prompts"), ("description", "Description"))


def as_text(writing: Mapping[str, str | Sequence[str]]) -> str:
    """What has been written so far, as plain text: each section's name, then its items one a line. It only
    grows while the answer is written (the API's words endpoint sends what is new)."""
    parts = []
    for key, name in SECTION_NAMES:
        value = writing.get(key)
        if value:
            items = [value] if isinstance(value, str) else list(value)
            parts.append(f"{name}\n" + "\n".join(items))
    return "\n\n".join(parts)


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
    for _section, value in events:
        result = value
    return result


CANCEL_EVERY = 8  # tokens between two questions to `cancelled` (a database read in the studio's task)


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
    cancelled: Callable[[], bool] = lambda: False,
) -> str:
    """One answer of the model, whole; it stops as soon as it holds `lines` lines or `sentences` sentences,
    since anything after them would be cut off anyway, and raises Cancelled when `cancelled()` says so."""
    raw = ""
    for i, piece in enumerate(
        writer.stream(
            ask.text(idea, labels),
            examples=ask.turns(),
            max_new_tokens=ask.max_new_tokens,
            temperature=temperature,
            seed=seed,
            repetition_penalty=ask.repetition_penalty,
            no_repeat_ngram=ask.no_repeat_ngram,
        )
    ):
        raw += piece
        if i % CANCEL_EVERY == 0 and cancelled():
            raise Cancelled
        if lines and len([x for x in raw.split("\n")[:-1] if x.strip()]) >= lines:
            break
        if sentences and len(re.findall(r"[.!?](?:\s|$)", raw)) >= sentences and raw.rstrip()[-1:] in ".!?":
            break
    return raw
