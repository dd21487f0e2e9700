"""What the studio asks the writer and what it keeps: the junk filter and the prompt builders, with a
scripted writer standing in for the model (no torch needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.ml import prompting
from assistant.ml.prompting import best, candidates, clean, clean_description, is_junk, labels_line
from tests.assistant.writer_fixtures import ScriptedWriter

LIGHTHOUSE = "a lighthouse in a storm at dusk"
LABELS = {"movements": ["Romanticism", "Realism"], "subjects": ["seascape", "lighthouse"], "moods": ["dramatic"]}


# -- cleaning and the junk filter --------------------------------------------------------------------


def test_it_cleans_list_numbering_labels_and_wrapping_quotes():
    assert clean('1. "The Keeper\'s Vigil"') == "The Keeper's Vigil"
    assert clean("  2)  Title: Last Light.", title=True) == "Last Light"
    assert clean("- **Gale at Dusk**") == "Gale at Dusk"
    assert clean("* “Salt and Iron”") == "Salt and Iron"
    assert clean("A tower of light on black water.") == "A tower of light on black water."


def test_it_filters_titles_that_echo_the_idea():
    assert is_junk("A Lighthouse in a Storm at Dusk", LIGHTHOUSE)
    assert is_junk("Lighthouse, Storm, Dusk", LIGHTHOUSE)
    assert not is_junk("The Lighthouse in the Storm", LIGHTHOUSE)  # two of its three words: a plain title, kept
    assert not is_junk("The Keeper's Last Watch", LIGHTHOUSE)
    assert is_junk("A Bowl of Lemons", "a bowl of lemons")
    assert not is_junk("Lemons", "a bowl of lemons")


def test_it_filters_refusals_repeats_and_text_that_is_not_words():
    for junk in [
        "I'm sorry, but I can't help with that",
        "As an AI language model, here are titles",
        "Storm storm storm",
        "Waves on waves on waves",
        "<|im_end|>",
        "https://example.com/title",
        "### Titles",
        "1234 5678",
        "{title}",
        "",
        "   ",
    ]:
        assert is_junk(junk, LIGHTHOUSE), junk


def test_a_title_may_not_say_a_word_twice_or_carry_an_aside():
    assert is_junk("The Dawn of the Dawn", LIGHTHOUSE, title=True)
    assert is_junk("The Jazz Band (Cubism)", LIGHTHOUSE, title=True)
    assert not is_junk("The Dawn of the Dawn", LIGHTHOUSE)  # in a longer text, twice is fine
    assert not is_junk("The Keeper's Last Watch", LIGHTHOUSE, title=True)


def test_it_filters_overlong_and_duplicate_candidates_and_leftover_numbering_or_quotes():
    assert is_junk("The Light That Stood Alone Against the Whole Dark Roaring Sea Tonight", LIGHTHOUSE, max_words=8)
    assert is_junk("Keeper's Watch", LIGHTHOUSE, seen=["Keeper's  watch!"])
    assert is_junk("Gale 2. Beacon", LIGHTHOUSE)
    assert is_junk('"Gale at Sea', LIGHTHOUSE)
    assert is_junk('Gale at Sea"', LIGHTHOUSE)
    assert not is_junk('The "Last" Beacon', LIGHTHOUSE)


def test_it_splits_a_written_list_into_clean_distinct_candidates():
    raw = (
        "1. \"The Keeper's Vigil\"\n2. Last Light\n3. last light\n4. I'm sorry, I cannot do that.\n"
        "5. A Lighthouse in a Storm at Dusk\n6. Salt 7. Iron\n\n8. Beacon Beacon Beacon"
    )

    assert candidates(raw, LIGHTHOUSE, title=True) == ["The Keeper's Vigil", "Last Light", "Salt", "Iron"]
    assert candidates(raw, LIGHTHOUSE, seen=["Last Light"], title=True) == ["The Keeper's Vigil", "Salt", "Iron"]


def test_it_drops_what_was_copied_from_the_worked_examples_unless_the_idea_asks_for_it():
    telltales = prompting.EXPANSIONS.telltales
    copied = "A red bicycle, a loud shout across the city skyline, angry light."

    assert candidates(copied, "abstract shapes in red and black", telltales=telltales) == []
    assert candidates(copied, "two bicycles in the rain", telltales=telltales) == [copied]
    assert (
        clean_description(
            "A cat sits by the window. The heron's eyes watch the snow.",
            "a cat watching snow",
            telltales=prompting.DESCRIPTION.telltales,
        )
        == "A cat sits by the window."
    )


def test_a_description_keeps_up_to_three_whole_sentences_and_drops_refusals():
    raw = (
        "The lamp burns on while the sea breaks white below. Rain slants across the tower. "
        "Grey and violet fill the sky. A fourth sentence would be too many. And this one was cut"
    )
    assert clean_description(raw, LIGHTHOUSE) == (
        "The lamp burns on while the sea breaks white below. "
        "Rain slants across the tower. Grey and violet fill the sky."
    )
    assert clean_description("I'm sorry, but I can't describe paintings.", LIGHTHOUSE) == ""
    assert clean_description("A lighthouse in a storm at dusk.", LIGHTHOUSE) == ""  # the idea handed back
    assert clean_description("Only a fragment without an end", LIGHTHOUSE) == ""  # cut off: written again


def test_a_prompt_the_token_limit_cut_is_left_out():
    raw = "1. A lone tower on black rocks under a violet sky.\n2. A lone figure sits alone on a hill, lost in"

    assert candidates(raw, LIGHTHOUSE, max_words=45, sentences=True) == [
        "A lone tower on black rocks under a violet sky."
    ]
    assert len(candidates(raw, LIGHTHOUSE, max_words=45)) == 2  # (titles need no full stop)


def test_labels_reach_the_instruction_as_context_only():
    assert labels_line(LABELS) == "Style: Romanticism, Realism. Subjects: seascape, lighthouse. Mood: dramatic.\n"
    assert (
        labels_line({"movements": [("Cubism", 0.9)], "moods": [{"label": "calm", "confidence": 0.4}]})
        == "Style: Cubism. Mood: calm.\n"
    )
    assert labels_line({}) == ""
    assert "Style: Romanticism" in prompting.TITLES.text(LIGHTHOUSE, LABELS)


# -- prompt builders, with a scripted writer -----------------------------------------------------------


def test_titles_are_reranked_by_the_callers_similarity_and_cut_to_n():
    written = "1. Last Light\n2. The Keeper's Vigil\n3. Salt and Iron\n4. Beacon\n5. Gale Warning\n"
    scores = {"Last Light": 0.2, "The Keeper's Vigil": 0.9, "Salt and Iron": 0.1, "Beacon": 0.7, "Gale Warning": 0.5}
    seen: list[list[str]] = []

    def rank(found: list[str]) -> list[float]:
        seen.append(list(found))
        return [scores[t] for t in found]

    got = prompting.titles(ScriptedWriter([written]), LIGHTHOUSE, LABELS, n=3, rank=rank)

    assert got == ["The Keeper's Vigil", "Beacon", "Gale Warning"]
    assert seen == [list(scores)]  # every surviving candidate, once, in the order written


def test_titles_without_a_ranking_keep_the_order_they_were_written_in():
    writer = ScriptedWriter(["1. Last Light\n2. The Keeper's Vigil\n3. Salt and Iron\n4. Beacon\n"])

    assert prompting.titles(writer, LIGHTHOUSE, LABELS, n=2) == ["Last Light", "The Keeper's Vigil"]
    assert writer.calls[0]["temperature"] == 0.0 and len(writer.calls) == 1
    assert f"Suggest {prompting.TITLES.k} short" in writer.calls[0]["instruction"]  # more than asked for


def test_too_few_good_titles_are_topped_up_by_seeded_low_temperature_samples():
    writer = ScriptedWriter(
        [
            "1. I'm sorry, I can't.\n2. A lighthouse in a storm at dusk\n3. Beacon\n",
            "1. Beacon\n2. Last Light\n3. Gale Warning\n4. Salt and Iron\n",
        ]
    )

    got = prompting.titles(writer, LIGHTHOUSE, LABELS, n=3)

    assert got == ["Beacon", "Last Light", "Gale Warning"]
    assert [(c["temperature"], c["seed"]) for c in writer.calls] == list(prompting.TRIES[:2])
    assert 0 < writer.calls[1]["temperature"] <= 0.5


def test_ranking_must_score_every_candidate():
    with pytest.raises(ValueError, match="2 scores for 3"):
        best(["a", "b", "c"], 2, lambda found: [1.0, 0.5])


SCRIPT = [
    "1. Last Light\n2. Beacon\n3. Gale Warning\n4. Salt and Iron\n",
    "1. A lone tower on black rocks, waves exploding white under a violet sky.\n"
    "2. Rain slants through the lamp's beam, a small boat below, wide view.\n"
    "3. Close view of the lantern room glowing amber as the storm closes in.\n",
    "The lamp burns on while the sea breaks below. Violet and grey fill the sky.",
]


def test_write_all_gives_each_finished_item_in_turn_and_never_the_raw_draft():
    writer = ScriptedWriter(
        [
            "1. I'm sorry, I can't.\n2. A lighthouse in a storm at dusk\n" + SCRIPT[0],  # junk, then good titles
            SCRIPT[1],
            SCRIPT[2],
        ]
    )

    events = list(prompting.write_all(writer, LIGHTHOUSE, LABELS, n=3))

    prompts = [line.split(". ", 1)[1] for line in SCRIPT[1].splitlines()]
    assert events == [
        ("titles", ["Last Light"]),
        ("titles", ["Last Light", "Beacon"]),
        ("titles", ["Last Light", "Beacon", "Gale Warning"]),
        ("expansions", prompts[:1]),
        ("expansions", prompts[:2]),
        ("expansions", prompts[:3]),
        ("description", SCRIPT[2]),
    ]
    assert not any("sorry" in str(v) or "storm at dusk" in str(v) for _s, v in events)  # filtered before shown


def test_the_words_as_text_only_grow_while_the_answer_is_written():
    writer = ScriptedWriter(SCRIPT)
    writing: dict = {}
    texts = []
    for section, items in prompting.write_all(writer, LIGHTHOUSE, LABELS, n=3):
        writing[section] = items
        texts.append(prompting.as_text(writing))

    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:], strict=False))
    assert texts[-1].splitlines()[:4] == ["Titles", "Last Light", "Beacon", "Gale Warning"]
    assert "Richer prompts" in texts[-1] and texts[-1].endswith("Violet and grey fill the sky.")


def test_a_cancel_stops_the_writing_within_a_few_tokens():
    writer = ScriptedWriter(SCRIPT)
    asked = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 1

    with pytest.raises(prompting.Cancelled):
        list(prompting.write_all(writer, LIGHTHOUSE, LABELS, n=3, cancelled=cancelled))
    assert len(writer.calls) == 1  # stopped inside the first draft


def test_the_prompting_module_imports_no_torch():
    code = "import sys, assistant.ml.prompting; print('torch' in sys.modules, 'django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.split() == ["False", "False"]


def test_a_line_that_reads_nearer_a_worked_example_than_the_idea_is_left_out():
    """Without a telltale word: the encoder's reading decides (here a stand-in that knows which lines leaked)."""
    raccoon = "a raccoon on a garden fence at night"
    writer = ScriptedWriter(
        [
            "1. Night Raider\n2. Grey Morning Stillness\n3. Fence Line Bandit\n4. Masked Visitor\n5. Moon Thief\n",
            "1. A raccoon balances on a moonlit fence.\n2. A grey bird waits in the shallows at dawn.\n"
            "3. Bins tipped over under a street lamp.\n",
            "1. A raccoon's paw reaches for an apple core on the fence.\n",  # one more try: one had leaked
            "A grey bird waits motionless in the shallows. The mist erases the bank.",
            "A masked raccoon pauses on the fence under the moon. Its eyes catch the light.",
        ]
    )
    copied = {"Grey Morning Stillness", "A grey bird waits in the shallows at dawn.", SCRIPT_HERON}  # (a title: kept)
    asked = []

    def nearer(candidates, references):
        asked.append(references)
        return [c in copied for c in candidates]

    events = dict(prompting.write_all(writer, raccoon, LABELS, n=3, nearer=nearer))

    assert len(events["titles"]) == 3  # titles are judged by their telltale words only (too short for this)
    assert events["expansions"] == [
        "A raccoon balances on a moonlit fence.",
        "Bins tipped over under a street lamp.",
        "A raccoon's paw reaches for an apple core on the fence.",
    ]
    assert events["description"].startswith("A masked raccoon")  # the first description was the heron's
    assert all(refs[0] == raccoon and len(refs) > 1 for refs in asked)  # the idea first, then the examples


SCRIPT_HERON = "A grey bird waits motionless in the shallows. The mist erases the bank."


def test_violence_gore_or_sex_the_idea_did_not_ask_for_is_left_out():
    raccoon = "a raccoon raiding a bin under a street lamp"
    raw = (
        "1. A raccoon tips a bin over under the amber lamp.\n"
        "2. A bat-like creature devoured by a big cat on the sidewalk beneath.\n"
        "3. The House of the Dead\n"
    )
    assert candidates(raw, raccoon, max_words=45) == ["A raccoon tips a bin over under the amber lamp."]
    battle = "a battle between two armies of knights on a muddy field"
    assert candidates("1. A battlefield lit by fire, a scene of blood and sweat.\n", battle, max_words=45)
    description = "A raccoon pauses on the lid. Its eyes shine. The butcher cut down an animal."
    assert clean_description(description, raccoon) == "A raccoon pauses on the lid. Its eyes shine."
    assert candidates("1. A nude figure in soft charcoal.\n", "a nude figure study in charcoal", max_words=45)
    assert not candidates("1. A nude figure in soft charcoal.\n", "a bowl of pears", max_words=45)
