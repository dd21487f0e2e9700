"""The REST API's first part (issue 20): personal tokens (shown once, kept hashed, scoped, expiring, revocable),
the artworks through the gallery's own filters with cursor pages, presets, one error shape, and the schema."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import ApiToken
from gallery import services as gallery

pytestmark = pytest.mark.django_db

ARTWORKS = "/api/v1/artworks/"
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"


def bearer(text: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {text}")


@pytest.fixture
def read_token(alice):
    return services.token_create(owner=alice, name="nightly sync", scopes=["read"])[1]


# -- tokens ----------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_kept_only_as_its_digest(alice_client, alice):
    page = alice_client.post(reverse("api:tokens"), {"name": "my script", "scopes": ["read", "write"], "days": 30})

    text = page.context["made"]
    assert page.status_code == 200 and text.startswith("ast_") and text in page.content.decode()
    token = ApiToken.objects.get(owner=alice)
    assert token.digest == hashlib.sha256(text.encode()).hexdigest() and token.scopes == ["read", "write"]
    assert text not in str(list(ApiToken.objects.values_list()))  # nowhere in the row
    assert text not in alice_client.get(reverse("api:tokens")).content.decode()  # never shown again
    assert dt.timedelta(days=29) < token.expires - timezone.now() <= dt.timedelta(days=30)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"name": "", "scopes": ["read"], "days": 0}, "This field is required"),
        ({"name": "x", "days": 0}, "This field is required"),
        ({"name": "x", "scopes": ["admin"], "days": 0}, "not one of the available choices"),  # not offered
    ],
)
def test_a_token_form_with_something_to_fix_makes_no_token(alice_client, data, says):
    page = alice_client.post(reverse("api:tokens"), data)

    assert page.status_code == 400 and says in page.content.decode()
    assert not ApiToken.objects.exists()


def test_only_staff_get_the_admin_scope(alice, admin_user):
    with pytest.raises(Exception, match="Only staff members"):
        services.token_create(owner=alice, name="x", scopes=["read", "admin"])
    token, _text = services.token_create(owner=admin_user, name="x", scopes=["read", "admin"])
    assert token.scopes == ["read", "admin"]


def test_a_token_reads_as_its_artist_and_notes_when_it_was_last_used(alice, read_token, paint):
    paint(alice, title="Harbour")

    response = bearer(read_token).get(ARTWORKS)

    assert response.status_code == 200 and [a["title"] for a in response.json()["results"]] == ["Harbour"]
    assert ApiToken.objects.get().last_used is not None


def test_a_revoked_or_expired_token_is_refused_at_once(alice, alice_client, read_token):
    token = ApiToken.objects.get()
    assert bearer(read_token).get(ARTWORKS).status_code == 200

    alice_client.post(reverse("api:token-revoke", args=[token.pk]))
    revoked = bearer(read_token).get(ARTWORKS)
    assert revoked.status_code == 401 and revoked["WWW-Authenticate"] == "Bearer"
    assert revoked.json()["errors"][0]["message"] == "This token is unknown, revoked or expired."

    _token, expiring = services.token_create(
        owner=alice, name="x", scopes=["read"], expires=timezone.now() + dt.timedelta(days=1)
    )
    ApiToken.objects.filter(prefix=expiring[:12]).update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert bearer(expiring).get(ARTWORKS).status_code == 401


def test_anybody_else_can_neither_see_nor_revoke_a_token(alice, bob_client, read_token):
    token = ApiToken.objects.get()

    assert bob_client.post(reverse("api:token-revoke", args=[token.pk])).status_code == 404
    assert "nightly sync" not in bob_client.get(reverse("api:tokens")).content.decode()
    assert ApiToken.objects.get().revoked is None


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer ast_made-up", "Bearer " + "x" * 50])
def test_a_malformed_or_unknown_token_is_a_401(header):
    response = Client(HTTP_AUTHORIZATION=header).get(ARTWORKS)

    assert response.status_code == 401 and set(response.json()["errors"][0]) == {"code", "message", "field"}


def test_without_a_token_or_a_session_the_api_answers_401():
    response = Client().get(ARTWORKS)

    assert response.status_code == 401 and response.json()["errors"][0]["code"] == "not_authenticated"


def test_a_read_token_may_not_write(alice, read_token, paint):
    artwork = paint(alice)
    _token, write = services.token_create(owner=alice, name="w", scopes=["read", "write"])

    assert bearer(read_token).patch(f"{ARTWORKS}{artwork.pk}/", {}, content_type="application/json").status_code == 403
    assert bearer(write).put(f"{ARTWORKS}{artwork.pk}/", {}, content_type="application/json").status_code == 405


# -- artworks -------------------------------------------------------------------------------------------


def test_the_list_uses_the_gallerys_filters_and_sorts(alice, read_token, paint):
    sea = paint(alice, title="Sea", style_preset="shipwreck")
    paint(alice, title="Cat", style_preset="pop-outline")
    apple = paint(alice, title="Apple", style_preset="shipwreck")
    gallery.artworks_star(artworks=[sea], by=alice)
    client = bearer(read_token)

    def titles(**query) -> list[str]:
        return [a["title"] for a in client.get(ARTWORKS, query).json()["results"]]

    assert titles(style="shipwreck", sort="title") == ["Apple", "Sea"]
    assert titles(q="cat") == ["Cat"]
    assert titles(starred="1") == ["Sea"]
    found = client.get(ARTWORKS, {"q": "sea"}).json()["results"][0]
    assert found["starred"] is True and found["styles"] == ["shipwreck"] and found["image"].endswith("/image/")
    assert apple.pk  # three pictures, two of them in the style


def test_the_list_pages_by_cursor_without_gaps_or_repeats(alice, read_token, paint):
    made = {paint(alice, title=f"Picture {i}").pk for i in range(5)}
    client = bearer(read_token)

    seen, url = [], f"{ARTWORKS}?limit=2&sort=title"
    while url:
        page = client.get(url).json()
        seen += [a["id"] for a in page["results"]]
        url = page["next"]

    assert len(seen) == 5 and {str(pk) for pk in made} == set(seen)


def test_a_token_downloads_the_picture_with_its_provenance_and_its_thumbnail(alice, read_token, paint):
    from PIL import Image

    artwork = paint(alice, title="Harbour at dusk")
    client = bearer(read_token)
    found = client.get(f"{ARTWORKS}{artwork.pk}/").json()

    picture = client.get(found["image"])
    assert picture.status_code == 200 and 'filename="Harbour at dusk.png"' in picture["Content-Disposition"]
    png = Image.open(io.BytesIO(b"".join(picture.streaming_content)))
    assert '"title":"Harbour at dusk"' in png.text["artstudio"]
    assert client.get(found["thumbnail"]).status_code == 200
    assert Client().get(found["image"]).status_code == 401


def test_a_filter_that_does_not_parse_is_a_400_in_the_one_error_shape(read_token, alice):
    response = bearer(read_token).get(ARTWORKS, {"since": "yesterday"})

    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": "invalid", "message": "Enter a valid date.", "field": "since"}]}


def test_another_artists_private_artwork_is_404_and_a_public_one_readable(alice, bob, paint):
    private = paint(alice, title="Mine")
    public = paint(alice, title="Ours")
    type(public).objects.filter(pk=public.pk).update(visibility="public")
    bobs = bearer(services.token_create(owner=bob, name="b", scopes=["read"])[1])

    assert bobs.get(f"{ARTWORKS}{private.pk}/").status_code == 404
    detail = bobs.get(f"{ARTWORKS}{public.pk}/")
    assert detail.status_code == 200 and detail.json()["provenance"]["id"] == str(public.pk)
    assert bobs.get(ARTWORKS).json()["results"] == []  # the list is one's own gallery


def test_the_presets_are_the_studios_grid_in_the_callers_language(read_token):
    presets = bearer(read_token).get("/api/v1/presets/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    assert {"slug": "pop-outline", "name": "波普描边"}.items() <= next(
        p for p in presets if p["slug"] == "pop-outline"
    ).items()


# -- schema and docs -----------------------------------------------------------------------------------


def test_the_committed_schema_is_the_one_the_code_makes():
    """A serializer changed without `manage.py spectacular --file docs/api/openapi.yaml` fails here."""
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    assert yaml.safe_load(out.getvalue()) == yaml.safe_load(SCHEMA_FILE.read_text()), (
        "docs/api/openapi.yaml is out of date: run `python manage.py spectacular --file docs/api/openapi.yaml`"
    )
    assert yaml.safe_load(out.getvalue())["openapi"] == "3.1.0"


def test_the_docs_page_takes_its_scripts_from_the_studio_not_a_cdn(alice_client):
    page = alice_client.get("/api/docs/")
    html = page.content.decode()

    assert page.status_code == 200 and "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "unsafe-inline" not in page["Content-Security-Policy"]
    assert alice_client.get("/api/schema/").status_code == 200


def test_a_token_over_its_rate_gets_a_429_that_says_when_to_try_again(alice, read_token, monkeypatch):
    from django.core.cache import cache

    from api.throttles import PerToken

    cache.clear()
    monkeypatch.setattr(PerToken, "THROTTLE_RATES", {"token": "2/m"})
    client = bearer(read_token)

    answers = [client.get(ARTWORKS) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 0 < int(answers[2]["Retry-After"]) <= 60 and answers[2].json()["errors"][0]["code"] == "throttled"
    cache.clear()


# -- jobs -----------------------------------------------------------------------------------------------

JOBS = "/api/v1/jobs/"


@pytest.fixture
def write_token(alice):
    return services.token_create(owner=alice, name="painter", scopes=["read", "write"])[1]


def test_a_job_is_made_as_the_studio_makes_it_and_followed_to_its_place_in_the_queue(
    alice, write_token, no_broker, django_capture_on_commit_callbacks
):
    from factories import photo

    from generator.models import Job

    client = bearer(write_token)
    with django_capture_on_commit_callbacks(execute=True):
        made = client.post(JOBS, {"photo": photo(), "style_preset": "pop-outline", "mode": "fast", "max_side": 512})

    assert made.status_code == 201, made.content
    job = Job.objects.get(owner=alice)
    assert made.json()["id"] == str(job.pk) and made["Location"].endswith(f"/jobs/{job.pk}/")
    assert job.options.style_preset == "pop-outline" and job.options.max_side == 512
    detail = client.get(f"{JOBS}{job.pk}/").json()
    assert detail["status"] == "queued" and detail["position"] == 0 and detail["artwork"] is None
    assert [j["id"] for j in client.get(JOBS).json()["results"]] == [str(job.pk)]

    cancelled = client.post(f"{JOBS}{job.pk}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"{JOBS}{job.pk}/retry/").json()["status"] == "queued"
    refused = client.post(f"{JOBS}{job.pk}/retry/")
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "state"


def test_a_job_the_studio_would_refuse_is_a_400_with_the_studios_words_and_nothing_is_kept(
    alice, write_token, no_broker, settings
):
    from factories import photo

    from generator.models import Job

    client = bearer(write_token)
    no_photo = client.post(JOBS, {"style_preset": "pop-outline"})
    not_a_picture = client.post(JOBS, {"photo": photo(), "style_preset": "no-such-style"})

    assert no_photo.status_code == 400 and no_photo.json()["errors"][0]["field"] in (None, "photo")
    assert not_a_picture.status_code == 400 and not_a_picture.json()["errors"][0]["field"] == "style_preset"
    settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 0
    over = client.post(JOBS, {"photo": photo(), "style_preset": "pop-outline"})
    assert over.status_code == 400 and "today's jobs" in over.json()["errors"][0]["message"]
    assert not Job.objects.exists()


def test_a_job_paints_again_the_photo_of_an_artwork_the_caller_owns(alice, bob, write_token, paint, no_broker):
    from generator.models import Job

    artwork = paint(alice)
    bobs = services.token_create(owner=bob, name="b", scopes=["read", "write"])[1]

    made = bearer(write_token).post(JOBS, {"from_artwork": str(artwork.pk), "style_preset": "sepia-oil"})
    stolen = bearer(bobs).post(JOBS, {"from_artwork": str(artwork.pk), "style_preset": "sepia-oil"})

    assert made.status_code == 201 and stolen.status_code == 404
    new = Job.objects.get(pk=made.json()["id"])
    with new.photo.open("rb") as copy, artwork.job.photo.open("rb") as original:
        assert copy.read() == original.read()


def test_jobs_are_the_callers_own_and_a_read_token_cannot_make_one(alice, bob, read_token, paint, no_broker):
    from factories import photo

    job = paint(alice).job
    bobs = bearer(services.token_create(owner=bob, name="b", scopes=["read", "write"])[1])

    assert bobs.get(f"{JOBS}{job.pk}/").status_code == 404
    assert bobs.post(f"{JOBS}{job.pk}/cancel/").status_code == 404
    assert bobs.get(JOBS).json()["results"] == []
    assert bearer(read_token).post(JOBS, {"photo": photo(), "style_preset": "pop-outline"}).status_code == 403
    assert bearer(read_token).get(f"{JOBS}{job.pk}/").json()["artwork"].endswith(f"/artworks/{job.artwork.pk}/")


def test_the_studios_rate_of_new_jobs_holds_for_the_api(alice, write_token, no_broker, settings):
    from django.core.cache import cache
    from factories import photo

    cache.clear()
    settings.ARTSTUDIO_RATE_JOBS = "1/m"
    client = bearer(write_token)

    first = client.post(JOBS, {"photo": photo(), "style_preset": "pop-outline"})
    second = client.post(JOBS, {"photo": photo(), "style_preset": "pop-outline"})

    assert first.status_code == 201 and second.status_code == 429 and second["Retry-After"] == "60"
    cache.clear()


# -- changing and deleting an artwork ---------------------------------------------------------------------


def test_a_patch_changes_title_tags_star_and_boards_as_the_gallery_does(alice, write_token, paint, no_broker):
    artwork = paint(alice, title="Old")
    gallery.artworks_tag(artworks=[artwork], by=alice, name="gone")
    seaside, harbours = (gallery.board_create(owner=alice, name=n) for n in ("Seaside", "Harbours"))
    gallery.board_add(board=seaside, by=alice, artworks=[artwork])
    client = bearer(write_token)

    changed = client.patch(
        f"{ARTWORKS}{artwork.pk}/",
        {"title": "  Harbour at   dusk ", "tags": ["sea", "Boats"], "starred": True, "boards": [harbours.pk]},
        content_type="application/json",
    )

    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["title"] == "Harbour at dusk" and sorted(body["tags"]) == ["Boats", "sea"]
    assert body["starred"] is True and body["boards"] == [harbours.pk]


def test_a_patch_with_something_wrong_changes_nothing(alice, write_token, paint):
    artwork = paint(alice, title="Kept")
    bobs_board = gallery.board_create(owner=somebody_else(), name="Bob's")
    client = bearer(write_token)

    bad_tag = client.patch(
        f"{ARTWORKS}{artwork.pk}/", {"title": "New", "tags": ["a/b"]}, content_type="application/json"
    )
    not_mine = client.patch(
        f"{ARTWORKS}{artwork.pk}/", {"title": "New", "boards": [bobs_board.pk]}, content_type="application/json"
    )

    assert bad_tag.status_code == 400 and "cannot contain" in bad_tag.json()["errors"][0]["message"]
    assert not_mine.status_code == 400 and not_mine.json()["errors"][0]["field"] == "boards"
    assert client.get(f"{ARTWORKS}{artwork.pk}/").json()["title"] == "Kept"


def test_an_error_in_one_item_of_a_list_names_the_list_and_the_item(alice, write_token, paint):
    artwork = paint(alice, title="Kept")

    response = bearer(write_token).patch(
        f"{ARTWORKS}{artwork.pk}/", {"tags": ["sea", "x" * 41]}, content_type="application/json"
    )

    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("max_length", "tags.1")]


def somebody_else():
    from tests.people import BOB

    return BOB.create()


def test_asking_for_public_sends_the_picture_to_its_check_and_it_stays_private_meanwhile(
    alice, write_token, paint, monkeypatch, django_capture_on_commit_callbacks
):
    checked = []
    monkeypatch.setattr("gallery.tasks.moderate_artwork.apply_async", lambda args, **kw: checked.append(args[0]))
    artwork = paint(alice)

    with django_capture_on_commit_callbacks(execute=True):
        answer = bearer(write_token).patch(
            f"{ARTWORKS}{artwork.pk}/", {"public": True}, content_type="application/json"
        )

    assert answer.json()["visibility"] == "private" and checked == [str(artwork.pk)]


def test_a_delete_removes_the_picture_and_another_artist_can_neither_change_nor_delete_it(
    alice, bob, write_token, paint, django_capture_on_commit_callbacks
):
    from generator.models import Artwork

    artwork = paint(alice, title="Mine")
    bobs = bearer(services.token_create(owner=bob, name="b", scopes=["read", "write"])[1])

    assert (
        bobs.patch(f"{ARTWORKS}{artwork.pk}/", {"title": "Bob's"}, content_type="application/json").status_code == 404
    )
    assert bobs.delete(f"{ARTWORKS}{artwork.pk}/").status_code == 404
    assert (
        bearer(services.token_create(owner=alice, name="r", scopes=["read"])[1])
        .delete(f"{ARTWORKS}{artwork.pk}/")
        .status_code
        == 403
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert bearer(write_token).delete(f"{ARTWORKS}{artwork.pk}/").status_code == 204
    assert not Artwork.objects.filter(pk=artwork.pk).exists()


# -- boards, tags, share links -------------------------------------------------------------------------


def test_boards_are_made_renamed_moved_covered_and_deleted_as_on_their_page(alice, write_token, paint):
    client = bearer(write_token)
    first = client.post("/api/v1/boards/", {"name": "Seaside"}, content_type="application/json")
    second = client.post("/api/v1/boards/", {"name": "Cats"}, content_type="application/json")
    same = client.post("/api/v1/boards/", {"name": "seaside"}, content_type="application/json")
    assert first.status_code == 201 and second.status_code == 201
    assert same.status_code == 400 and same.json()["errors"][0]["field"] == "name"  # names are unique per artist
    board = first.json()["id"]
    artwork = paint(alice)
    client.patch(f"{ARTWORKS}{artwork.pk}/", {"boards": [board]}, content_type="application/json")

    changed = client.patch(
        f"/api/v1/boards/{board}/",
        {"name": "Sea", "cover": str(artwork.pk), "move": 1},
        content_type="application/json",
    )

    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Sea" and changed.json()["cover"] == str(artwork.pk)
    assert changed.json()["artworks"] == 1
    assert [b["name"] for b in client.get("/api/v1/boards/").json()["results"]] == ["Cats", "Sea"]
    assert client.delete(f"/api/v1/boards/{board}/").status_code == 204
    assert client.get(f"{ARTWORKS}{artwork.pk}/").status_code == 200  # the picture stays


def test_tags_list_the_artists_own_words_with_their_counts(alice, bob, write_token, paint):
    artworks = [paint(alice), paint(alice)]
    gallery.artworks_tag(artworks=artworks, by=alice, name="sea")
    gallery.artworks_tag(artworks=artworks[:1], by=alice, name="Boats")
    gallery.artworks_tag(artworks=[paint(bob)], by=bob, name="bob's word")

    tags = bearer(write_token).get("/api/v1/tags/").json()

    assert [(t["name"], t["artworks"]) for t in tags] == [("Boats", 1), ("sea", 2)]


def test_a_share_link_is_made_listed_and_revoked_and_then_dead(alice, bob, write_token, paint, no_broker):
    board = gallery.board_create(owner=alice, name="Seaside")
    client = bearer(write_token)

    made = client.post("/api/v1/links/", {"board": board.pk, "days": 7}, content_type="application/json")
    assert made.status_code == 201 and made.json()["live"] is True
    link = made.json()
    assert Client().get(link["url"]).status_code == 200
    assert [x["id"] for x in client.get("/api/v1/links/", {"board": board.pk}).json()["results"]] == [link["id"]]

    bobs = bearer(services.token_create(owner=bob, name="b", scopes=["read", "write"])[1])
    assert bobs.post(f"/api/v1/links/{link['id']}/revoke/").status_code == 404
    assert bobs.post("/api/v1/links/", {"board": board.pk}, content_type="application/json").status_code == 404

    revoked = client.post(f"/api/v1/links/{link['id']}/revoke/")
    assert revoked.json()["live"] is False and Client().get(link["url"]).status_code == 404


# -- explore, the search by meaning, the assistant ----------------------------------------------------------


def test_explore_lists_everybodys_public_pictures_without_their_artists_tags(alice, bob, read_token, paint):
    from generator.models import Artwork

    public = paint(bob, title="Bob's harbour")
    gallery.artworks_tag(artworks=[public], by=bob, name="bob-private-word")
    Artwork.objects.filter(pk=public.pk).update(visibility="public")
    paint(bob, title="Bob's private one")
    client = bearer(read_token)

    listed = client.get("/api/v1/explore/").json()["results"]
    detail = client.get(f"{ARTWORKS}{public.pk}/").json()

    assert [a["title"] for a in listed] == ["Bob's harbour"] and listed[0]["tags"] == []
    assert detail["tags"] == [] and detail["boards"] == []


def test_the_search_by_meaning_answers_202_while_a_worker_reads_then_the_matches_with_why(
    alice, read_token, paint, assistant_models, monkeypatch
):
    from django.core.cache import cache

    from gallery.services import meaning

    cache.clear()
    asked = []
    monkeypatch.setattr("gallery.tasks.search_by_meaning.apply_async", lambda args, **kw: asked.append(args))
    harbour = paint(alice, title="Morning", style_preset="shipwreck")
    client = bearer(read_token)

    waiting = client.get(f"{ARTWORKS}meaning/", {"q": "stormy sea"})
    assert waiting.status_code == 202 and waiting["Retry-After"] == "1" and asked == [[alice.pk, "stormy sea"]]
    meaning.meaning_search(owner_id=alice.pk, q="stormy sea")  # what the worker does with the message
    done = client.get(f"{ARTWORKS}meaning/", {"q": "stormy sea"})

    assert done.status_code == 200 and done.json()["state"] == "done"
    first = done.json()["results"][0]
    assert first["id"] == str(harbour.pk) and first["why"] == "style" and first["score"] >= meaning.FLOOR
    assert client.get(f"{ARTWORKS}meaning/").status_code == 400  # nothing to look for
    cache.clear()


def test_an_idea_is_asked_followed_saved_listed_and_deleted(alice, bob, write_token, monkeypatch):
    from assistant.models import Idea

    monkeypatch.setattr("assistant.tasks.analyse_idea.delay", lambda idea_id: None)
    monkeypatch.setattr("assistant.tasks.write_idea.delay", lambda idea_id: None)
    client = bearer(write_token)

    empty = client.post("/api/v1/ideas/", {"text": "   "})
    asked = client.post("/api/v1/ideas/", {"text": "a lighthouse in a storm"})

    assert empty.status_code == 400 and not Idea.objects.filter(text="   ").exists()
    assert asked.status_code == 201 and asked.json()["status"] == "queued"
    pk = asked.json()["id"]
    assert client.get(f"/api/v1/ideas/{pk}/").json()["text"] == "a lighthouse in a storm"
    assert client.patch(f"/api/v1/ideas/{pk}/", {"saved": True}, content_type="application/json").json()["saved"]
    assert [i["id"] for i in client.get("/api/v1/ideas/", {"saved": "1"}).json()["results"]] == [pk]
    bobs = bearer(services.token_create(owner=bob, name="b", scopes=["read", "write"])[1])
    assert (
        bobs.get(f"/api/v1/ideas/{pk}/").status_code == 404 and bobs.delete(f"/api/v1/ideas/{pk}/").status_code == 404
    )
    assert client.get(f"/api/v1/ideas/{pk}/picture/").status_code == 404  # asked in words
    assert client.delete(f"/api/v1/ideas/{pk}/").status_code == 204 and not Idea.objects.exists()


def test_a_change_to_an_idea_is_json_and_a_body_that_is_not_an_object_is_refused(alice, write_token):
    from assistant.models import Idea

    idea = Idea.objects.create(owner=alice, text="a pier at night")
    client = bearer(write_token)

    as_form = client.patch(f"/api/v1/ideas/{idea.pk}/", "saved=true", content_type="application/x-www-form-urlencoded")
    a_list = client.patch(f"/api/v1/ideas/{idea.pk}/", [True], content_type="application/json")

    assert as_form.status_code == 415 and a_list.status_code == 400
    assert a_list.json()["errors"][0]["code"] == "invalid"
    idea.refresh_from_db()
    assert not idea.saved
