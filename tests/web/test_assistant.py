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
from assistant.ml import prompting
from assistant.models import Idea
from generator.models import ModelUse, ModelVersion, Preset
from generator.services import check_model_upload

pytestmark = pytest.mark.django_db

ASK = reverse("assistant:ask")


@pytest.fixture
def queued(monkeypatch):
    """Record the assistant tasks sent to the broker instead of reaching Redis."""
    sent = []
    monkeypatch.setattr("assistant.tasks.analyse_idea.delay", lambda idea_id: sent.append(("analyse", idea_id)))
    monkeypatch.setattr("assistant.tasks.write_idea.delay", lambda idea_id: sent.append(("write", idea_id)))
    return sent


# --- bad input gets a clear answer, and nothing is kept --------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Type an idea"),
        ("   \n\t  ", "Type an idea"),
        ("a" * 10_000, "under 2,000 characters"),
        ("🌊🌩️🏠 ✨✨", "has none"),
        ("\x00\x07\x1b", "Type an idea"),
    ],
)
def test_it_refuses_an_idea_it_cannot_read_with_a_sentence_and_keeps_nothing(alice_client, queued, text, says):
    response = alice_client.post(ASK, {"text": text})

    assert response.status_code == 400
    assert says in response.content.decode()
    assert Idea.objects.count() == 0 and queued == []


def test_it_strips_control_characters_and_keeps_the_words(alice, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="a lighthouse\x00 in a\x1b storm\u200b at dusk")

    assert idea.text == "a lighthouse in a storm at dusk"


def test_an_idea_in_chinese_is_answered_plainly_not_with_confident_nonsense(
    alice, queued, assistant_models, django_capture_on_commit_callbacks
):
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
    alice, queued, assistant_models, django_capture_on_commit_callbacks
):
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
    for style in idea.analysis["styles"]:  # a reason is about the idea: labels it shares, never an example quoted
        shared = [label for _kind, label in style["why_labels"]]
        assert "“" not in style["why"] and all(label in style["why"] for label in shared)
        idea_labels = {x["label"] for key in ("movements", "moods", "subjects") for x in idea.analysis[key]}
        assert set(shared) <= idea_labels
    assert {v.kind for v in idea.model_versions.all()} == {"sentence_encoder", "text_head"}
    assert queued == [("analyse", str(idea.pk)), ("write", str(idea.pk))]


def test_the_studios_style_ranking_is_fitted_on_the_validation_split_of_a_persons_choices(assistant_models):
    from assistant.ml.styles import read_choices

    helper, _versions = services.assistant()

    validation = read_choices(services.STYLE_CHOICES, "validation")
    assert helper.ranker.fitted_on == len(validation) > 0  # every one names shipped styles; none of the test split
    styles = helper.classify("a lighthouse in a storm at dusk").styles
    assert [s["confidence"] for s in styles] == sorted((s["confidence"] for s in styles), reverse=True)
    assert all(0 < s["confidence"] < 1 for s in styles)


def test_the_labels_the_pages_translate_are_the_shipped_heads_labels(assistant_models):
    from assistant.label_names import KINDS
    from generator import registry
    from generator.ml.files import read_metadata

    heads = ModelVersion.objects.filter(kind="text_head", is_active=True)
    assert {v.slot for v in heads} == set(KINDS)
    for version in heads:
        labels = json.loads(read_metadata(registry.weights_of(version).path)["labels"])
        assert [str(x) for x in KINDS[version.slot]] == labels, version.slot


def test_in_chinese_the_labels_style_names_and_reasons_are_chinese(alice, alice_client, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="a lighthouse in a storm at dusk")
    analysis = {
        "movements": [{"label": "Romanticism", "confidence": 0.6}],
        "moods": [{"label": "awe", "confidence": 0.5}],
        "subjects": [{"label": "seascapes and coasts", "confidence": 0.9}],
        "styles": [
            {
                "slug": "starry-night",
                "name": "Starry Night",
                "confidence": 0.5,
                "why": "In tune with your idea: seascapes and coasts, awe.",
                "why_labels": [["subject", "seascapes and coasts"], ["mood", "awe"]],
            },
            {"slug": "udnie", "name": "Udnie", "confidence": 0.2, "why": "x", "why_labels": []},
        ],
        "similar": [],
        "notes": [],
        "codes": [],
    }
    Idea.objects.filter(pk=idea.pk).update(status=Idea.Status.DONE, analysis=analysis)
    alice_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    page = alice_client.get(idea.get_absolute_url()).content.decode()

    for chinese in ("浪漫主义", "敬畏", "海景与海岸", "与你的想法契合：海景与海岸、敬畏。", "在工作室的各种风格中"):
        assert chinese in page, chinese
    assert "Romanticism" not in page and "In tune with" not in page
    alice_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = alice_client.get(idea.get_absolute_url()).content.decode()
    assert "Romanticism" in english and "In tune with your idea: seascapes and coasts, awe." in english


def test_an_idea_in_chinese_gets_the_plain_note_in_chinese(alice, alice_client, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="暴风雨中的灯塔，黄昏时分")
    services.idea_analyse(idea_id=idea.pk)
    alice_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    page = alice_client.get(idea.get_absolute_url()).content.decode()

    idea.refresh_from_db()
    assert idea.status == Idea.Status.DONE and idea.analysis["codes"] == ["not_english"]
    assert not idea.analysis["movements"] and not idea.analysis["styles"]
    assert 'data-testid="idea-note"' in page and "The assistant's models read English only" not in page


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


# --- the language model: a tiny random one stands in for SmolLM2 (seconds, not minutes) ----------------


@pytest.fixture
def tiny_writer_active(assistant_models, tmp_path):
    """A 2-layer random Llama as the active text generator, registered the way a trained version is."""
    from assistant.ml import writer as ml_writer
    from assistant.trained_versions import register_trained
    from tests.assistant.writer_fixtures import tiny_writer

    path = tmp_path / "tiny-writer.safetensors"
    sha = ml_writer.save(tiny_writer(), path)
    return register_trained(
        ModelVersion(kind="text_generator", sha256=sha, label="Tiny writer", licence="test"), path, activate=True
    )


def tiny_tate(path, *, per_part: int = 12):
    """An artworks.jsonl.gz with `per_part` works in each part of the fixed split, titled in the tiny
    tokenizer's words."""
    import gzip

    from assistant.ml.tate import split_of
    from tests.assistant.writer_fixtures import SUBJECT_TITLES

    counts, rows, work_id = {"train": 0, "validation": 0, "test": 0}, [], 0
    while min(counts.values()) < per_part:
        work_id += 1
        part = split_of(work_id)
        if counts[part] < per_part:
            subjects, title = SUBJECT_TITLES[work_id % len(SUBJECT_TITLES)]
            terms = subjects.split(", ")
            rows.append(
                {
                    "id": work_id,
                    "title": title,
                    "artist": "A. Painter",
                    "date": "1900",
                    "subjects0": ["nature"],
                    "subjects1": terms[:1],
                    "subjects2": terms[1:],
                }
            )
            counts[part] += 1
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    return path


def test_finetune_titles_registers_a_new_writer_version_judged_by_a_measure_it_did_not_train_on(
    tiny_writer_active, tmp_path
):
    from assistant.ml import writer as ml_writer
    from generator import registry

    tate = tiny_tate(tmp_path / "artworks.jsonl.gz")
    out, err = StringIO(), StringIO()
    call_command(
        "assistant",
        "finetune-titles",
        "--tate",
        str(tate),
        "--pairs",
        "12",
        "--held-out",
        "12",
        "--steps",
        "40",
        "--lr",
        "3e-2",
        stdout=out,
        stderr=err,
    )

    version = ModelVersion.objects.exclude(pk=tiny_writer_active.pk).get(kind="text_generator")
    assert version.source == ModelVersion.Source.TRAINING and version.status == ModelVersion.Status.READY
    assert not version.is_active  # --activate was not given: the writer in use stays
    assert ModelVersion.objects.get(pk=tiny_writer_active.pk).is_active
    metrics = version.metrics
    assert metrics["base_version"] == tiny_writer_active.pk and metrics["pairs"] == 12 and metrics["steps"] == 40
    assert metrics["held_out_loss_after"] < metrics["held_out_loss_before"]
    for when in ("before", "after"):
        assert -1 <= metrics[when]["title_similarity"] <= 1 and 0 <= metrics[when]["title_distinct_share"] <= 1
    assert f"version {version.pk}" in out.getvalue() and "step 40/40" in err.getvalue()
    tuned = ml_writer.Writer.from_file(registry.local_path(version), version.sha256)  # a whole, loadable file
    assert not torch_equal(
        tuned.weights(),
        ml_writer.Writer.from_file(registry.local_path(tiny_writer_active), tiny_writer_active.sha256).weights(),
    )


def torch_equal(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_finetune_titles_activate_makes_it_the_writer_and_bad_numbers_are_refused(tiny_writer_active, tmp_path):
    tate = tiny_tate(tmp_path / "artworks.jsonl.gz")
    with pytest.raises(CommandError, match="at least 1 pair, 2 held-out"):
        call_command("assistant", "finetune-titles", "--tate", str(tate), "--held-out", "1", stdout=StringIO())
    assert ModelVersion.objects.filter(kind="text_generator").count() == 1

    call_command(
        "assistant",
        "finetune-titles",
        "--tate",
        str(tate),
        "--pairs",
        "4",
        "--held-out",
        "4",
        "--steps",
        "2",
        "--activate",
        stdout=StringIO(),
        stderr=StringIO(),
    )

    active = ModelVersion.objects.get(kind="text_generator", is_active=True)
    assert active.pk != tiny_writer_active.pk and active.metrics["base_version"] == tiny_writer_active.pk


def test_writing_fills_the_idea_section_by_section_and_records_the_writer(alice, queued, tiny_writer_active):
    idea = services.idea_create(owner=alice, text="a lighthouse in a storm at dusk")
    services.idea_analyse(idea_id=idea.pk)

    written = services.idea_write(idea_id=idea.pk)

    assert written.status == Idea.Status.DONE
    assert set(written.writing) == {"expansions", "titles", "description"}
    assert written.draft == prompting.as_text(written.writing)  # what was kept, never the raw draft
    assert tiny_writer_active in written.model_versions.all()
    assert services.idea_write(idea_id=idea.pk) is None  # delivered twice: written once


def test_the_model_dashboard_counts_the_assistants_models_and_keeps_them_when_the_idea_goes(
    alice, queued, tiny_writer_active
):
    from generator.selectors import model_dashboard

    for text in ("a lighthouse in a storm at dusk", "a bowl of pears on a table"):
        idea = services.idea_create(owner=alice, text=text)
        services.idea_analyse(idea_id=idea.pk)
        services.idea_write(idea_id=idea.pk)

    def uses():
        return {(r.version.kind, r.version.slot): (r.uses, r.failures) for r in model_dashboard() if r.uses}

    counted = uses()
    assert counted[("text_generator", "")] == (2, 0)
    assert counted[("sentence_encoder", "")] == (4, 0)  # it read each idea, and ranked what was written
    assert {slot for kind, slot in counted if kind == "text_head"} == {"subject", "movement", "mood"}
    for idea in Idea.objects.filter(owner=alice):
        services.idea_delete(idea=idea, by=alice)
    assert uses() == counted


STOPPED_SCRIPT = [
    "1. Last Light\n2. Beacon\n3. Gale Warning\n4. Salt and Iron\n",
    "1. A lone tower on black rocks, waves exploding white under a violet sky.\n",
]


def test_an_artist_stops_the_writing_and_keeps_what_was_finished(
    alice, alice_client, bob_client, queued, tiny_writer_active, monkeypatch
):
    from tests.assistant.writer_fixtures import ScriptedWriter

    idea = services.idea_create(owner=alice, text="a lighthouse in a storm at dusk")
    services.idea_analyse(idea_id=idea.pk)
    stop = reverse("assistant:idea-cancel", args=[idea.pk])

    class ArtistStopsDuringThePrompts(ScriptedWriter):
        def stream(self, instruction, **options):
            if len(self.calls) == 1:  # the titles are written and shown; the artist presses Stop
                assert bob_client.post(stop).status_code == 404  # (nobody else can)
                assert alice_client.post(stop, HTTP_HX_REQUEST="true").status_code == 200
            yield from super().stream(instruction, **options)

    writer = ArtistStopsDuringThePrompts(STOPPED_SCRIPT)
    monkeypatch.setattr(services, "writer", lambda device="cpu": (writer, tiny_writer_active))

    assert services.idea_write(idea_id=idea.pk) is None
    idea.refresh_from_db()
    assert idea.status == Idea.Status.CANCELLED and len(writer.calls) == 2  # it stopped inside the prompts
    titles = idea.writing["titles"]  # three of the four, ranked by the encoder
    assert len(titles) == 3 and set(titles) < {"Last Light", "Beacon", "Gale Warning", "Salt and Iron"}
    assert idea.writing["expansions"] == []
    page = alice_client.get(idea.get_absolute_url()).content.decode()
    assert titles[0] in page and "You stopped the assistant" in page and 'data-testid="idea-cancel"' not in page
    assert ModelUse.objects.filter(purpose="writing", outcome="cancelled", version=tiny_writer_active).exists()
    with pytest.raises(ValidationError, match="nothing to cancel"):
        services.idea_cancel(idea=idea, by=alice)


def test_the_page_never_shows_a_draft_only_the_items_that_passed(alice, alice_client, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="a raccoon on a fence at night")
    raw = "Titles\n1. The butcher cut down an animal; they're going to eat you tomorrow"
    writing = {"titles": ["Night Watch"], "expansions": [], "description": ""}
    Idea.objects.filter(pk=idea.pk).update(status=Idea.Status.WRITING, writing=writing, draft=raw)

    page = alice_client.get(reverse("assistant:idea-status", args=[idea.pk])).content.decode()

    assert "Night Watch" in page and "butcher" not in page and "Writing more" in page
    assert 'data-testid="idea-cancel"' in page


def test_writing_without_a_text_generator_fails_the_idea_and_keeps_its_labels(alice, queued, assistant_models):
    idea = services.idea_create(owner=alice, text="a lighthouse in a storm at dusk")
    services.idea_analyse(idea_id=idea.pk)

    services.idea_write(idea_id=idea.pk)

    idea.refresh_from_db()
    assert idea.status == Idea.Status.FAILED and "no active text generator" in idea.error
    assert idea.analysis["movements"]


def test_a_new_artwork_gets_suggested_tags_and_titles_once(alice_client, alice, no_broker, tiny_writer_active):
    from factories import make_job

    from generator import services as studio

    artwork = studio.job_run(job_id=make_job(alice).pk)

    suggestions = services.artwork_suggest(artwork_id=artwork.pk)

    assert suggestions["tags"] and len(suggestions["tags"]) == len(set(suggestions["tags"]))
    assert isinstance(suggestions["titles"], list) and len(suggestions["titles"]) <= 3
    kinds = set(ModelVersion.objects.filter(pk__in=suggestions["versions"]).values_list("kind", flat=True))
    assert kinds == {"sentence_encoder", "text_head", "efficientnet_lite0", "text_generator"}
    assert services.artwork_suggest(artwork_id=artwork.pk) is None  # a message delivered twice
    suggesting = ModelUse.objects.filter(purpose=ModelUse.Purpose.SUGGESTING)
    assert sorted(suggesting.values_list("version", flat=True)) == sorted(suggestions["versions"])  # once each
    page = alice_client.get(artwork.get_absolute_url()).content.decode()
    assert all(tag in page for tag in suggestions["tags"])


def test_an_artist_can_take_a_suggested_title_and_nobody_else_can_retitle(alice_client, bob_client, alice, no_broker):
    from factories import make_job

    from generator import services as studio

    artwork = studio.job_run(job_id=make_job(alice).pk)
    url = reverse("gallery:artwork-retitle", args=[artwork.pk])

    assert bob_client.post(url, {"title": "Mine now"}).status_code == 404
    assert alice_client.post(url, {"title": "  Last Light  "}).status_code == 302
    artwork.refresh_from_db()
    assert artwork.title == "Last Light"


# --- the studio's panel ----------------------------------------------------------------------------------


def test_the_studio_has_the_assistants_panel_and_it_answers_in_place(alice_client, queued, assistant_models):
    studio = alice_client.get(reverse("generator:studio")).content.decode()
    assert 'id="assistant-panel"' in studio and 'hx-target="#assistant-panel-answer"' in studio

    response = alice_client.post(ASK, {"text": "a fox asleep in the snow"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 200 and 'id="idea-answer"' in page
    assert 'hx-swap-oob="true"' in page and "a fox asleep in the snow</textarea>" in page  # the form, clean
    assert Idea.objects.get().text == "a fox asleep in the snow"


def test_the_panels_form_comes_back_with_its_error_in_place(alice_client, queued):
    response = alice_client.post(ASK, {"text": ""}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400 and "Type an idea" in response.content.decode()
    assert response["HX-Retarget"] == "#idea-form" and response["HX-Reswap"] == "outerHTML"
    assert Idea.objects.count() == 0


def test_a_confidence_too_small_to_show_reads_under_one_percent_not_zero():
    from assistant.templatetags.assistant import confidence

    assert [confidence(x) for x in (0.996, 0.512, 0.01, 0.004, 0.0)] == ["100%", "51%", "1%", "<1%", "<1%"]
    assert confidence(None) == ""
