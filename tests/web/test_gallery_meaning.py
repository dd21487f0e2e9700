"""The search by meaning: the real sentence encoder, run as the worker runs it, and the page that polls for it."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from gallery import selectors, services
from gallery.models import Meaning
from gallery.selectors import GalleryView
from gallery.services import meaning
from generator.models import Artwork, ModelVersion

pytestmark = pytest.mark.django_db

MEANING = reverse("gallery:meaning")


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the tests' cache is the process's memory: one test's answer is not the next one's
    yield
    cache.clear()


@pytest.fixture
def asked(monkeypatch):
    """The searches sent to the broker, recorded instead of queued."""
    sent = []
    monkeypatch.setattr("gallery.tasks.search_by_meaning.apply_async", lambda args, **kwargs: sent.append(tuple(args)))
    return sent


def caption(artwork, text: str, tags=()) -> Artwork:
    """What the assistant would have said the picture shows."""
    Artwork.objects.filter(pk=artwork.pk).update(suggestions={"caption": text, "tags": list(tags)})
    return Artwork.objects.get(pk=artwork.pk)


@pytest.fixture
def pictures(alice, paint, assistant_models):
    """alice's gallery: a harbour painted as The Shipwreck, a sleeping cat, a fruit bowl, a city at night."""
    return {
        "harbour": caption(paint(alice, title="Morning", style_preset="shipwreck"), "boats moored in a harbour"),
        "cat": caption(paint(alice, title="Sunday", style_preset="pop-outline"), "a cat asleep on a sofa"),
        "fruit": caption(paint(alice, title="Still", style_preset="pale-sketch"), "apples and pears in a bowl"),
        "city": caption(paint(alice, title="Late", style_preset="ink-on-cream"), "a street of shops lit at night"),
    }


def found(user, q: str) -> dict:
    """artwork id -> why, as the worker answers it."""
    answer = meaning.meaning_search(owner_id=user.pk, q=q)
    assert answer.state == "done", answer.message
    return {m.artwork_id: m.why for m in answer.matches}


def test_stormy_sea_finds_the_harbour_painted_as_the_shipwreck_by_its_style(alice, pictures):
    hits = found(alice, "stormy sea")

    assert next(iter(hits)) == str(pictures["harbour"].pk)  # the closest first
    assert hits[str(pictures["harbour"].pk)] == meaning.STYLE
    assert str(pictures["fruit"].pk) not in hits


@pytest.mark.parametrize(
    ("query", "which"),
    [("pets", "cat"), ("something to eat", "fruit"), ("nightlife downtown", "city"), ("sailing", "harbour")],
)
def test_a_phrase_finds_the_picture_whose_subject_it_means_without_sharing_a_word(alice, pictures, query, which):
    hits = found(alice, query)

    assert next(iter(hits)) == str(pictures[which].pk)
    assert hits[str(pictures[which].pk)] == meaning.SUBJECT


@pytest.mark.parametrize("query", ["quantum chromodynamics", "tax return deadline", "database index tuning"])
def test_a_query_about_nothing_in_the_gallery_finds_nothing(alice, pictures, query):
    assert found(alice, query) == {}


def test_a_new_title_or_tag_is_read_again_at_the_next_search_and_nothing_else_is(alice, pictures):
    found(alice, "pets")
    assert Meaning.objects.filter(artwork__owner=alice).count() == 4
    before = {m.artwork_id: m.digest for m in Meaning.objects.all()}

    services.artworks_tag(artworks=[pictures["fruit"]], by=alice, name="volcano")
    hits = found(alice, "an eruption")

    after = {m.artwork_id: m.digest for m in Meaning.objects.all()}
    assert [pk for pk in after if after[pk] != before[pk]] == [pictures["fruit"].pk]
    assert next(iter(hits)) == str(pictures["fruit"].pk)


def test_another_encoder_reads_every_picture_again(alice, pictures):
    found(alice, "pets")
    Meaning.objects.update(encoder_sha256="0" * 64, vector=b"\0" * 768)  # read by some older encoder

    assert next(iter(found(alice, "pets"))) == str(pictures["cat"].pk)
    assert set(Meaning.objects.values_list("encoder_sha256", flat=True)) != {"0" * 64}


def test_it_never_finds_another_artists_pictures(alice, bob, paint, pictures):
    caption(paint(bob, title="Tabby", style_preset="shipwreck"), "a kitten playing with wool")

    assert set(found(alice, "pets")) <= {str(a.pk) for a in pictures.values()}
    assert len(found(bob, "stormy sea")) == 1


def test_without_an_encoder_the_answer_says_so(alice, pictures):
    ModelVersion.objects.filter(kind="sentence_encoder").update(is_active=False)

    answer = meaning.meaning_search(owner_id=alice.pk, q="pets")

    assert answer.state == "unavailable" and "sentence encoder" in answer.message
    assert meaning.meaning_search_result(owner_id=alice.pk, q="pets").state == "unavailable"


# -- the page -----------------------------------------------------------------------------------------


def test_the_gallery_shows_the_word_matches_at_once_and_asks_for_the_meaning_once(alice_client, alice, pictures, asked):
    for _ in range(3):  # a reload while the answer is on its way asks nothing more
        page = alice_client.get(reverse("gallery:index"), {"q": "harbour"}).content.decode()

    assert f'data-artwork="{pictures["harbour"].pk}"' in page
    assert 'hx-get="/gallery/meaning/?q=harbour"' in page
    assert asked == [(alice.pk, "harbour")]


def test_the_meaning_part_polls_while_a_worker_reads_then_shows_the_rest_of_the_matches(
    alice_client, alice, pictures, asked
):
    alice_client.get(reverse("gallery:index"), {"q": "harbour"})
    waiting = alice_client.get(MEANING, {"q": "harbour"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in waiting and "meaning-waiting" in waiting

    meaning.meaning_search(owner_id=alice.pk, q="stormy sea")
    meaning.meaning_search(owner_id=alice.pk, q="harbour")  # what the worker does with the message
    done = alice_client.get(MEANING, {"q": "harbour"}, HTTP_HX_REQUEST="true").content.decode()

    assert "every 1s" not in done
    # the harbour is on the page above (its caption has the word), so this part does not show it twice
    assert f'data-artwork="{pictures["harbour"].pk}"' not in done


def test_a_meaning_match_says_why_and_obeys_the_views_filters(alice_client, alice, pictures, asked):
    meaning.meaning_search(owner_id=alice.pk, q="stormy sea")

    done = alice_client.get(MEANING, {"q": "stormy sea"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'data-artwork="{pictures["harbour"].pk}"' in done
    assert "Close in meaning to its style" in done

    starred_only = alice_client.get(MEANING, {"q": "stormy sea", "starred": "1"}, HTTP_HX_REQUEST="true")
    assert f'data-artwork="{pictures["harbour"].pk}"' not in starred_only.content.decode()
    services.artworks_star(artworks=[pictures["harbour"]], by=alice)
    starred_only = alice_client.get(MEANING, {"q": "stormy sea", "starred": "1"}, HTTP_HX_REQUEST="true")
    assert f'data-artwork="{pictures["harbour"].pk}"' in starred_only.content.decode()


def test_each_artist_reads_only_their_own_answer(alice, bob, bob_client, pictures, asked):
    meaning.meaning_search(owner_id=alice.pk, q="stormy sea")

    page = bob_client.get(MEANING, {"q": "stormy sea"}, HTTP_HX_REQUEST="true").content.decode()

    assert str(pictures["harbour"].pk) not in page
    assert "meaning-waiting" in page and asked == [(bob.pk, "stormy sea")]


def test_without_scripts_the_link_opens_a_page_that_refreshes_until_the_answer(alice_client, alice, pictures, asked):
    waiting = alice_client.get(MEANING, {"q": "pets"}).content.decode()
    assert '<meta http-equiv="refresh" content="1">' in waiting and "<h1>" in waiting

    meaning.meaning_search(owner_id=alice.pk, q="pets")
    done = alice_client.get(MEANING, {"q": "pets"}).content.decode()
    assert 'http-equiv="refresh"' not in done and f'data-artwork="{pictures["cat"].pk}"' in done


def test_a_broker_that_does_not_answer_leaves_the_word_matches_and_says_why(alice_client, alice, pictures, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("gallery.tasks.search_by_meaning.apply_async", down)

    page = alice_client.get(reverse("gallery:index"), {"q": "harbour"})
    part = alice_client.get(MEANING, {"q": "harbour"}, HTTP_HX_REQUEST="true").content.decode()

    assert page.status_code == 200 and f'data-artwork="{pictures["harbour"].pk}"' in page.content.decode()
    assert "could not be queued" in part and "every 1s" not in part


def test_a_worker_that_never_answers_stops_the_polling_with_a_sentence(
    alice_client, alice, pictures, asked, monkeypatch
):
    alice_client.get(reverse("gallery:index"), {"q": "pets"})
    later = time.time() + meaning.WAIT_SECONDS + 1
    monkeypatch.setattr(meaning.time, "time", lambda: later)

    part = alice_client.get(MEANING, {"q": "pets"}, HTTP_HX_REQUEST="true").content.decode()

    assert "No worker answered" in part and "every 1s" not in part


def test_the_found_pictures_keep_the_order_of_their_scores(alice, pictures):
    matches = [
        meaning.Match(str(pictures["fruit"].pk), 0.5, meaning.SUBJECT),
        meaning.Match(str(pictures["cat"].pk), 0.4, meaning.STYLE),
    ]

    shown = selectors.found_by_meaning(user=alice, view=GalleryView(q="zzz"), matches=matches)

    assert [(a.pk, m.why) for a, m in shown] == [(pictures["fruit"].pk, "subject"), (pictures["cat"].pk, "style")]


def test_while_a_first_search_reads_every_picture_the_page_says_how_far_it_is(
    alice_client, alice, pictures, asked, monkeypatch
):
    seen = []

    def rank_midway(encoder, sha, owner_id, q, progress):
        progress(64, 5000)  # what the encoder reports after its first batch
        seen.append(alice_client.get(MEANING, {"q": q}, HTTP_HX_REQUEST="true").content.decode())
        return []

    monkeypatch.setattr(meaning, "_rank", rank_midway)
    alice_client.get(reverse("gallery:index"), {"q": "pets"})
    meaning.meaning_search(owner_id=alice.pk, q="pets")

    assert "64 of 5000" in seen[0] and 'hx-trigger="every 1s"' in seen[0]
    assert "meaning-none" in alice_client.get(MEANING, {"q": "pets"}, HTTP_HX_REQUEST="true").content.decode()
