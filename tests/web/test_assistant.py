"""The creative assistant through the web and the command line: ask, read the answer, keep the idea.

The classifier tests use the shipped encoder and heads (as a fresh studio has them); the language
model is exercised in tests/assistant and in the slow end-to-end test at the bottom.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from factories import photo

from assistant import services
from assistant.models import Idea
from generator.models import ModelVersion, Preset
from generator.services import check_model_upload, models_import_shipped

pytestmark = pytest.mark.django_db

ASK = reverse("assistant:ask")


@pytest.fixture
def assistant_models(settings, registry_ready):
    """The assistant's shipped encoder and heads, imported like the painting networks (no language model)."""
    from tests.shared_weights import SHIPPED

    settings.ARTSTUDIO_SHIPPED_WEIGHTS_DIR = SHIPPED
    return models_import_shipped(kinds=[services.ENCODER, services.HEAD])


@pytest.fixture
def queued(monkeypatch):
    """Record the assistant tasks sent to the broker instead of reaching Redis."""
    sent = []
    monkeypatch.setattr("assistant.tasks.analyse_idea.delay", lambda idea_id: sent.append(("analyse", idea_id)))
    monkeypatch.setattr("assistant.tasks.write_idea.delay", lambda idea_id: sent.append(("write", idea_id)))
    return sent


# --- bad input gets a clear answer, and nothing is kept --------------------------------------------


@pytest.mark.parametrize(("text", "says"), [
    ("", "Type an idea"),
    ("   \n\t  ", "Type an idea"),
    ("a" * 10_000, "under 2,000 characters"),
    ("🌊🌩️🏠 ✨✨", "has none"),
    ("\x00\x07\x1b", "Type an idea"),
])
def test_it_refuses_an_idea_it_cannot_read_with_a_sentence_and_keeps_nothing(alice_client, queued, text, says):
    response = alice_client.post(ASK, {"text": text})

    assert response.status_code == 400
    assert says in response.content.decode()
    assert Idea.objects.count() == 0 and queued == []


def test_it_strips_control_characters_and_keeps_the_words(alice, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="a lighthouse\x00 in a\x1b storm\u200b at dusk")

    assert idea.text == "a lighthouse in a storm at dusk"


def test_an_idea_in_chinese_is_answered_plainly_not_with_confident_nonsense(alice, queued, assistant_models,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        idea = services.idea_create(owner=alice, text="暴风雨中的灯塔，黄昏")
    services.idea_analyse(idea_id=idea.pk)
    idea.refresh_from_db()

    assert idea.status == Idea.Status.DONE  # nothing to write: the language model reads English too
    assert idea.analysis["movements"] == [] and idea.analysis["moods"] == [] and idea.analysis["styles"] == []
    assert "English" in idea.analysis["notes"][0]
    assert [kind for kind, _ in queued] == ["analyse"]


# --- the answer ----------------------------------------------------------------------------------------


def test_an_idea_gets_movements_moods_and_styles_best_first_then_its_writing_is_queued(
        alice, queued, assistant_models, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        idea = services.idea_create(owner=alice, text="a lighthouse in a storm at dusk")
    with django_capture_on_commit_callbacks(execute=True):
        services.idea_analyse(idea_id=idea.pk)
    idea.refresh_from_db()

    assert idea.status == Idea.Status.WRITING
    for key in ("movements", "moods"):
        confidences = [x["confidence"] for x in idea.analysis[key]]
        assert len(confidences) == 3 and confidences == sorted(confidences, reverse=True)
        assert 0 < sum(confidences) <= 1.0001
    visible = set(Preset.objects.filter(hidden=False).values_list("slug", flat=True))
    assert len(idea.analysis["styles"]) == 3 and {s["slug"] for s in idea.analysis["styles"]} <= visible
    assert all(s["why"] for s in idea.analysis["styles"])
    assert {v.kind for v in idea.model_versions.all()} == {"sentence_encoder", "text_head"}
    assert queued == [("analyse", str(idea.pk)), ("write", str(idea.pk))]


def test_a_message_delivered_twice_analyses_the_idea_once(alice, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="sunflowers in a blue vase")

    assert services.idea_analyse(idea_id=idea.pk) is not None
    assert services.idea_analyse(idea_id=idea.pk) is None


def test_a_suggested_style_opens_the_studio_on_that_style(alice_client, alice, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="a scream on a bridge under a burning orange sky")
    services.idea_analyse(idea_id=idea.pk)

    page = alice_client.get(idea.get_absolute_url()).content.decode()
    slug = Idea.objects.get(pk=idea.pk).analysis["styles"][0]["slug"]
    link = reverse("generator:studio") + f"?style={slug}"
    assert f'href="{link}"' in page
    studio = alice_client.get(link).content.decode()
    assert f'value="{slug}" id="preset-{slug}" checked' in studio


def test_the_assistant_without_its_models_fails_the_idea_with_a_clear_message(alice, queued, assistant_models):
    ModelVersion.objects.filter(kind="sentence_encoder").update(is_active=False)
    idea = services.idea_create(owner=alice, text="a quiet harbour at dawn")

    services.idea_analyse(idea_id=idea.pk)
    idea.refresh_from_db()

    assert idea.status == Idea.Status.FAILED and "no active sentence encoder" in idea.error


# --- keeping ideas, and who may see them ------------------------------------------------------------


def test_a_saved_idea_appears_in_the_artists_list_of_ideas(alice_client, alice, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="a fox asleep in the snow")
    services.idea_analyse(idea_id=idea.pk)

    alice_client.post(reverse("assistant:idea-save", args=[idea.pk]), {"saved": "1"})

    assert Idea.objects.get(pk=idea.pk).saved
    assert "a fox asleep in the snow" in alice_client.get(ASK).content.decode()


def test_another_artist_can_neither_see_nor_save_an_idea(bob_client, alice, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="a fox asleep in the snow")

    for url in ("assistant:idea", "assistant:idea-status", "assistant:idea-picture"):
        assert bob_client.get(reverse(url, args=[idea.pk])).status_code == 404
    assert bob_client.post(reverse("assistant:idea-save", args=[idea.pk])).status_code == 404
    assert bob_client.post(reverse("assistant:idea-delete", args=[idea.pk])).status_code == 404
    assert not Idea.objects.get(pk=idea.pk).saved


def test_the_assistant_asks_anonymous_visitors_to_log_in(client):
    response = client.get(ASK)

    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_picture_that_is_not_a_picture_is_refused_and_nothing_is_kept(alice_client, queued, isolated_data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("idea.png", b"<html>not a picture</html>", content_type="image/png")
    response = alice_client.post(ASK, {"text": "", "picture": fake})

    assert response.status_code == 400 and "not a picture" in response.content.decode()
    assert Idea.objects.count() == 0 and not (isolated_data / "users").exists()


def test_a_picture_idea_keeps_the_picture_for_its_owner(alice_client, alice, queued):
    response = alice_client.post(ASK, {"text": "", "picture": photo()})

    idea = Idea.objects.get()
    assert response.status_code == 302 and idea.picture
    assert alice_client.get(reverse("assistant:idea-picture", args=[idea.pk])).status_code == 200


# --- the command line ---------------------------------------------------------------------------------


def test_classify_json_prints_one_object_with_every_list_best_first(assistant_models):
    out = StringIO()
    call_command("assistant", "classify", "--json", "a lighthouse in a storm at dusk", stdout=out)

    answer = json.loads(out.getvalue())
    assert set(answer) >= {"movements", "subjects", "moods", "styles"}
    for key in ("movements", "moods", "styles"):
        confidences = [x["confidence"] for x in answer[key]]
        assert confidences and confidences == sorted(confidences, reverse=True)
    assert {"label", "confidence"} <= set(answer["movements"][0])


def test_classify_batch_prints_one_object_a_line_in_the_files_order(assistant_models, tmp_path):
    ideas = ["water lilies on a pond", "", "暴风雨中的灯塔", "a robot made of neon tubes", "🌊🌊"]
    batch = tmp_path / "ideas.txt"
    batch.write_text("\n".join(ideas), encoding="utf-8")
    out = StringIO()
    call_command("assistant", "classify", "--json", "--batch", str(batch), stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == len(ideas)
    single = StringIO()
    call_command("assistant", "classify", "--json", ideas[3], stdout=single)
    assert lines[3] == json.loads(single.getvalue())  # the same answer alone as in a batch
    assert lines[1]["movements"] == [] and lines[1]["notes"] and lines[2]["notes"]


def test_classify_without_an_idea_says_how_to_call_it(assistant_models):
    with pytest.raises(CommandError, match="one idea, or --batch"):
        call_command("assistant", "classify")


def test_the_text_models_cannot_be_uploaded_as_weights():
    with pytest.raises(ValidationError, match="manage.py assistant train"):
        check_model_upload(kind="text_head", slot="movement", upload=photo())
