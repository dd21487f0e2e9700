"""What the assistant sees in a picture: subject words, palette, brightness and the idea text built from them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from assistant.ml import picture
from assistant.ml.imagenet_words import FLAT_PICTURE, UNCOUNTED, WORDS
from tests.shared_weights import shipped_models

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "generator" / "ml" / "assets"
SHARED = Path("/work/shared/data")  # the wider set of photos and paintings, where this machine has it


def shared(path: str) -> Path:
    found = SHARED / path
    if not found.exists():
        pytest.skip(f"{found} is not on this machine")
    return found


@pytest.fixture(scope="module")
def net():
    model, _ = shipped_models().get_net("efficientnet_lite0", torch.device("cpu"))
    return model


def look(net, source: Path | Image.Image) -> picture.PictureFacts:
    if isinstance(source, Image.Image):
        return picture.describe(source, net)
    with Image.open(source) as img:
        return picture.describe(img, net)


def words(facts: picture.PictureFacts) -> list[str]:
    return [w for w, _ in facts.subjects]


# --- the word table ---------------------------------------------------------------------------------------


def test_every_imagenet_class_has_a_plain_word():
    assert len(WORDS) == 1000
    assert all(isinstance(w, str) and w and w == w.strip() for w in WORDS)


def test_the_table_follows_imagenets_class_order():
    # Each line names its class: they must be torchvision's categories, in its (the standard) order.
    import torchvision

    categories = torchvision.models.EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"]
    source = (ROOT / "assistant" / "ml" / "imagenet_words.py").read_text()
    named = re.findall(r'^    ".*",  # (\d+) (.*)$', source, flags=re.MULTILINE)
    assert [(int(i), name) for i, name in named] == list(enumerate(categories))


def test_breeds_and_kinds_become_the_word_an_artist_uses():
    assert {WORDS[i] for i in range(151, 269)} == {"dog"}  # the 118 dog breeds
    assert {WORDS[i] for i in range(281, 286)} == {"cat"}
    assert {WORDS[i] for i in range(52, 69)} == {"snake"}
    assert (WORDS[967], WORDS[975], WORDS[980], WORDS[812], WORDS[607]) == (
        "coffee",
        "lake",
        "volcano",
        "space shuttle",
        "pumpkin lantern",
    )
    assert WORDS[383] == "lemur"  # "Madagascar cat" is not a cat


def test_the_word_lists_only_name_words_of_the_table():
    assert set(WORDS) >= UNCOUNTED
    assert set(WORDS) >= FLAT_PICTURE


# --- subjects ---------------------------------------------------------------------------------------------


def test_it_sees_a_cat_in_the_cat_photo(net):
    facts = look(net, ASSETS / "photos" / "chelsea.png")
    assert facts.subjects[0][0] == "cat"
    assert facts.subjects[0][1] > 0.5
    assert facts.confident


def test_it_sees_coffee_in_the_coffee_photo(net):
    facts = look(net, ASSETS / "photos" / "coffee.png")
    assert facts.subjects[0][0] in ("coffee", "cup", "mug")
    assert facts.confident


def test_it_sees_a_bakery_in_the_bakery_photo(net):
    assert "bakery" in words(look(net, shared("photos/bakery.jpg")))[:2]


def test_a_wide_photo_is_judged_by_more_than_its_centre(net):
    # The beach is at the sides of this 16:9 sunset; its centre crop alone finds almost no seashore.
    facts = look(net, shared("photos/city_beach_sunset.jpg"))
    assert {"seashore", "lake"} & set(words(facts)[:2])


def test_subjects_are_distinct_words_best_first_with_probabilities(net):
    facts = look(net, ASSETS / "photos" / "rocket.jpg")
    found = words(facts)
    assert len(found) == len(set(found)) == 5
    shares = [p for _, p in facts.subjects]
    assert shares == sorted(shares, reverse=True)
    assert all(0 <= p <= 1 for p in shares) and sum(shares) <= 1 + 1e-6
    assert "rocket" in found


def test_top_limits_how_many_subjects_come_back(net):
    with Image.open(ASSETS / "photos" / "chelsea.png") as img:
        assert len(picture.describe(img, net, top=2).subjects) == 2


def test_it_is_unsure_about_an_abstract_painting(net):
    facts = look(net, shared("styles/improvisation_no_30.jpg"))
    assert not facts.confident
    assert facts.summary.startswith("It is not sure what this shows")
    assert picture.as_idea(facts).startswith("a picture")


def test_a_painting_is_not_called_a_book_or_a_comic(net):
    # What the network answers for most paintings says what they are printed on, not what they show.
    facts = look(net, ASSETS / "styles" / "woman_with_hat.jpg")
    assert not FLAT_PICTURE & set(words(facts))


# --- colours and brightness -------------------------------------------------------------------------------


def test_a_black_image_is_dark_with_one_plain_colour(net):
    facts = look(net, Image.new("RGB", (300, 200), (0, 0, 0)))
    assert facts.brightness_word == "dark"
    assert facts.brightness == pytest.approx(0.0, abs=1e-6)
    assert facts.palette == [("#000000", 1.0)]
    assert facts.colour_words == ["black"]


def test_a_red_image_leads_with_red(net):
    facts = look(net, Image.new("RGB", (300, 200), (255, 0, 0)))
    first, share = facts.palette[0]
    assert abs(int(first[1:3], 16) - 255) <= 4 and int(first[3:5], 16) <= 4 and int(first[5:7], 16) <= 4
    assert share > 0.99
    assert "red" in facts.colour_words[0]


def test_a_palette_has_up_to_five_colours_whose_shares_add_up(net):
    facts = look(net, ASSETS / "styles" / "starry_night.jpg")
    assert 1 <= len(facts.palette) <= 5
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colour) for colour, _ in facts.palette)
    shares = [s for _, s in facts.palette]
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) == pytest.approx(1.0)
    assert len(facts.colour_words) == len(facts.palette)
    assert any("blue" in w for w in facts.colour_words)


def test_the_same_picture_always_gets_the_same_palette(net):
    path = ASSETS / "photos" / "astronaut.png"
    assert look(net, path).palette == look(net, path).palette


@pytest.mark.parametrize(
    ("rgb", "word"),
    [
        ((0, 0, 0), "black"),
        ((255, 255, 255), "white"),
        ((128, 128, 128), "grey"),
        ((205, 205, 205), "pale grey"),
        ((255, 0, 0), "vivid red"),
        ((0, 0, 128), "deep blue"),
        ((255, 128, 0), "vivid orange"),
        ((139, 69, 19), "warm brown"),
        ((225, 190, 160), "beige"),
        ((255, 170, 200), "pale pink"),
        ((255, 105, 180), "pink"),
        ((199, 21, 133), "vivid magenta"),
        ((128, 0, 32), "deep red"),
        ((30, 120, 40), "cool green"),
    ],
)
def test_colours_get_plain_names(rgb, word):
    assert picture.colour_word(picture.rgb_to_lab(np.array(rgb))) == word


def test_lab_conversion_round_trips():
    rgb = np.array([[255, 0, 0], [12, 200, 99], [0, 0, 0], [255, 255, 255]])
    assert np.allclose(picture.lab_to_rgb(picture.rgb_to_lab(rgb)), rgb, atol=0.01)


@pytest.mark.parametrize(("lightness", "word"), [(0.1, "dark"), (0.3, "dim"), (0.5, "balanced"), (0.8, "bright")])
def test_brightness_has_a_word(lightness, word):
    assert picture.brightness_word(lightness) == word


# --- odd pictures -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 1), (4000, 3), (3, 4000), (31, 900)])
def test_tiny_and_extreme_shapes_do_not_crash(net, size):
    facts = look(net, Image.new("RGB", size, (0, 0, 200)))
    assert facts.colour_words == ["deep blue"]
    assert len(facts.subjects) == 5


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_any_image_mode_is_read(net, mode):
    facts = look(net, Image.new(mode, (64, 48)))
    assert facts.palette and facts.subjects


# --- what the page and the text models get ----------------------------------------------------------------


def test_the_idea_is_plain_english_from_the_words(net):
    facts = look(net, ASSETS / "photos" / "chelsea.png")
    idea = picture.as_idea(facts)
    assert idea.startswith("a cat, ")
    assert idea.endswith(facts.brightness_word)
    assert facts.colour_words[0] in idea


def test_a_mass_noun_takes_no_article(net):
    assert picture.as_idea(look(net, ASSETS / "photos" / "coffee.png")).startswith("coffee, ")


def test_the_summary_says_plainly_what_it_sees(net):
    facts = look(net, ASSETS / "photos" / "chelsea.png")
    assert re.match(r"It sees: cat \(\d+ %\)", facts.summary)
    assert f"brightness: {facts.brightness_word}." in facts.summary
    assert "colours: " in facts.summary


def test_a_blank_picture_names_no_guess():
    facts = picture.PictureFacts(
        subjects=[("worm", 0.02)],
        palette=[("#000000", 1.0)],
        colour_words=["black"],
        brightness=0.0,
        brightness_word="dark",
        confident=False,
    )
    assert picture.as_idea(facts) == "a picture, black, dark"
    assert facts.summary == "It is not sure what this shows; colours: black; brightness: dark."


def test_the_picture_module_imports_no_django():
    code = "import sys, assistant.ml.picture; assert 'django' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
