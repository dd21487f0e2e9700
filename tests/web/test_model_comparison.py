"""A version compared with the active one on the evaluation sheet: measured, kept, shown, and heeded at activation."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse
from safetensors.torch import load_file
from test_model_registry import weights_upload

from generator import registry, services
from generator.ml import files
from generator.models import ModelComparison, ModelVersion

pytestmark = pytest.mark.django_db

SIDE = 96  # small pictures: the measures and the verdict work the same at any size
STYLES = [(3, "Stained Glass"), (10, "Sepia Oil")]


def multistyle_version(tmp_path: Path, label: str, change) -> ModelVersion:
    """A ready 26-style version made from the active one's weights by `change(state)`."""
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    state = change(load_file(active.weights.path))
    path = tmp_path / f"{label}.safetensors"
    files.save_state(state, path)
    return services.model_version_upload(kind="multistyle26", label=label, validate="now", upload=weights_upload(path))


def blind(state: dict) -> dict:
    """No eyes: the first convolution sees nothing, so every picture is the same pattern, whatever the photo."""
    return {k: v * 0 if k == "contract.0.conv.conv.weight" else v for k, v in state.items()}


def slightly_changed(state: dict) -> dict:
    return {k: v * 1.01 for k, v in state.items()}


def compared(version: ModelVersion) -> ModelComparison:
    comparison = services.comparison_request(version=version, side=SIDE, queue=False)
    services.comparison_run(comparison_id=comparison.pk, styles=STYLES)
    comparison.refresh_from_db()
    return comparison


def test_a_version_that_erases_the_photo_loses_and_activating_it_asks_for_confirmation(tmp_path):
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    candidate = multistyle_version(tmp_path, "blind", blind)
    comparison = compared(candidate)

    assert comparison.status == ModelComparison.Status.DONE and comparison.against == active
    results = comparison.results
    assert results["cases"] == 2 * 4 and results["photos"] == sorted(p.stem for p in _sheet_photos())
    mean = results["mean"]
    assert mean["candidate"]["structure"] < mean["reference"]["structure"] - 0.1
    assert results["changes"]["structure"]["is"] == "worse" and results["changes"]["structure"]["high"] < 0
    assert comparison.verdict == ModelComparison.Verdict.WORSE
    assert set(results["styles"]) == {"Stained Glass", "Sepia Oil"}
    assert {"style_drift", "palette_drift", "gram_drift", "blotches", "seconds"} <= set(mean["candidate"])
    assert Path(comparison.sheet.path).stat().st_size > 0

    candidate.refresh_from_db()  # its standing is in its metrics, for the dashboard
    assert candidate.metrics["comparison"]["verdict"] == "worse"
    assert candidate.metrics["comparison"]["against"] == active.pk

    with pytest.raises(ValidationError, match="lost to the active one"):
        services.model_version_activate(version=candidate)
    assert registry.active_versions().get(kind="multistyle26") == active
    services.model_version_activate(version=candidate, confirmed=True)
    assert registry.active_versions().get(kind="multistyle26") == candidate
    # Rolling back to the version it replaced needs no confirmation; activating the loser again does: it lost
    # to the version that is active again
    services.model_version_rollback(kind="multistyle26")
    with pytest.raises(ValidationError):
        services.model_version_activate(version=candidate)


def test_a_version_that_keeps_more_of_the_photo_wins_and_activates_without_a_question(tmp_path):
    shipped = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    worse = multistyle_version(tmp_path, "blind", blind)
    services.model_version_activate(version=worse)  # never compared: nothing to heed
    comparison = compared(shipped)
    assert comparison.against == worse
    assert comparison.results["changes"]["structure"]["is"] == "better" and comparison.verdict == "better"
    services.model_version_activate(version=shipped)
    assert registry.active_versions().get(kind="multistyle26") == shipped


def test_an_arbitrary_style_version_is_judged_against_the_sheets_paintings(tmp_path):
    active = ModelVersion.objects.get(kind="magenta_transformer", is_active=True)
    state = load_file(active.weights.path)
    state["res.4.1.conv.conv.weight"] = state["res.4.1.conv.conv.weight"] * 1.05
    path = tmp_path / "transformer.safetensors"
    files.save_state(state, path)
    candidate = services.model_version_upload(
        kind="magenta_transformer", label="nudged", validate="now", upload=weights_upload(path)
    )
    assert candidate.status == "ready", candidate.reason
    comparison = services.comparison_request(version=candidate, side=64, queue=False)
    services.comparison_run(comparison_id=comparison.pk)
    comparison.refresh_from_db()
    results = comparison.results
    assert comparison.status == "done" and results["paintings"] and results["cases"] == 4 * len(results["paintings"])
    for side in ("candidate", "reference"):
        assert {"structure", "style", "palette", "gram", "fine"} <= set(results["mean"][side])
    assert set(results["changes"]) == {"structure", "style"}
    # A nudge to one layer changes little: no verdict claims more than the pictures show
    assert comparison.verdict in {"same", "better", "worse", "mixed"}
    assert abs(results["changes"]["style"]["difference"]) < 0.5 * results["mean"]["reference"]["style"]


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("active", "is the active one"),
        ("encoder", "Only the networks that paint"),
        ("validating", "Only a ready version"),
    ],
)
def test_what_cannot_be_compared_is_refused_before_anything_is_queued(which, message, tmp_path):
    version = {
        "active": lambda: ModelVersion.objects.get(kind="multistyle26", is_active=True),
        "encoder": lambda: ModelVersion.objects.create(kind="sentence_encoder", label="e", status="ready"),
        "validating": lambda: ModelVersion.objects.create(kind="multistyle26", label="v", status="validating"),
    }[which]()
    with pytest.raises(ValidationError, match=message):
        services.comparison_request(version=version)
    assert not ModelComparison.objects.exists()


def test_a_comparison_runs_once_and_a_failure_is_kept_with_its_reason(tmp_path):
    candidate = multistyle_version(tmp_path, "nudged", slightly_changed)
    comparison = services.comparison_request(version=candidate, side=SIDE, queue=False)
    ModelVersion.objects.filter(kind="efficientnet_lite0").update(is_active=False)  # the judge is gone
    assert services.comparison_run(comparison_id=comparison.pk, styles=STYLES) is None
    comparison.refresh_from_db()
    assert comparison.status == "failed" and "perceptual network" in comparison.error
    assert services.comparison_run(comparison_id=comparison.pk, styles=STYLES) is None  # not run twice
    assert not comparison.sheet and "comparison" not in ModelVersion.objects.get(pk=candidate.pk).metrics


def test_the_admin_action_queues_a_comparison_and_the_pages_show_the_result(admin_client, tmp_path, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "generator.tasks.compare_model_version.apply_async", lambda args, queue, **kw: sent.append((args[0], queue))
    )
    candidate = multistyle_version(tmp_path, "blind", blind)
    changelist = reverse("admin:generator_modelversion_changelist")
    with TestCase.captureOnCommitCallbacks(execute=True):
        admin_client.post(changelist, {"action": "compare", "_selected_action": [candidate.pk]})
    comparison = ModelComparison.objects.get(version=candidate)
    assert sent == [(comparison.pk, "gpu")] and comparison.status == "queued"

    services.comparison_run(comparison_id=comparison.pk, styles=STYLES)  # what the worker does
    page = admin_client.get(reverse("admin:generator_modelcomparison_change", args=[comparison.pk])).content.decode()
    assert 'data-testid="comparison-report"' in page and "Stained Glass" in page and "worse" in page
    sheet = admin_client.get(reverse("admin:generator_modelcomparison_sheet", args=[comparison.pk]))
    assert sheet.status_code == 200 and b"".join(sheet.streaming_content)[:4] == b"RIFF"
    dashboard = admin_client.get(reverse("admin:generator_modelversion_dashboard")).content.decode()
    row = dashboard.split(f'data-version="{candidate.pk}"')[1].split("</tr>")[0]
    assert "Worse" in row and "structure -" in row

    # Activating it shows a question first; only the answer "yes" activates it
    question = admin_client.post(changelist, {"action": "activate", "_selected_action": [candidate.pk]})
    assert "lost to the active version" in question.content.decode() and 'name="confirm"' in question.content.decode()
    assert not ModelVersion.objects.get(pk=candidate.pk).is_active
    admin_client.post(changelist, {"action": "activate", "_selected_action": [candidate.pk], "confirm": "yes"})
    assert ModelVersion.objects.get(pk=candidate.pk).is_active


def test_the_command_line_compares_and_heeds_the_result(tmp_path, monkeypatch):
    from io import StringIO

    import generator.services.model_comparisons as comparisons

    real = comparisons.comparison_run
    monkeypatch.setattr(comparisons, "comparison_run", lambda **kw: real(**kw, styles=STYLES))
    monkeypatch.setattr("generator.services.comparison_run", lambda **kw: real(**kw, styles=STYLES))
    candidate = multistyle_version(tmp_path, "blind", blind)
    out = StringIO()
    call_command("models", "compare", str(candidate.pk), "--side", str(SIDE), stdout=out)
    report = out.getvalue()
    assert "worse" in report and "Stained Glass" in report and "structure" in report and "contact sheet" in report
    with pytest.raises(CommandError, match="lost to the active one"):
        call_command("models", "activate", str(candidate.pk), stdout=StringIO())
    call_command("models", "activate", str(candidate.pk), "--confirm", stdout=StringIO())
    assert ModelVersion.objects.get(pk=candidate.pk).is_active


def _sheet_photos():
    from generator.ml.compare import SHEET_PHOTOS

    return SHEET_PHOTOS


def test_the_api_asks_for_a_comparison_shows_it_and_heeds_it_at_activation(admin_user, alice, tmp_path, monkeypatch):
    from django.test import Client

    from api import services as tokens

    def bearer(user, scopes):
        return Client(HTTP_AUTHORIZATION=f"Bearer {tokens.token_create(owner=user, name='t', scopes=scopes)[1]}")

    sent = []
    monkeypatch.setattr(
        "generator.tasks.compare_model_version.apply_async", lambda args, queue, **kw: sent.append(args)
    )
    api = bearer(admin_user, ["read", "write", "admin"])
    candidate = multistyle_version(tmp_path, "blind", blind)
    url = f"/api/v1/admin/models/{candidate.pk}/"

    assert api.post(url + "compare/", {"side": 10}, content_type="application/json").status_code == 400
    with TestCase.captureOnCommitCallbacks(execute=True):
        asked = api.post(url + "compare/", {"side": SIDE}, content_type="application/json")
    assert asked.status_code == 202 and asked.json()["status"] == "queued" and asked.json()["sheet"] is None
    comparison_id = asked.json()["id"]
    assert sent == [(comparison_id,)]
    services.comparison_run(comparison_id=comparison_id, styles=STYLES)

    shown = api.get(f"/api/v1/admin/comparisons/{comparison_id}/").json()
    assert shown["verdict"] == "worse" and shown["results"]["changes"]["structure"]["is"] == "worse"
    assert api.get(shown["sheet"]).status_code == 200
    listed = api.get(f"/api/v1/admin/comparisons/?version={candidate.pk}").json()["results"]
    assert [c["id"] for c in listed] == [comparison_id]
    assert api.get(url).json()["metrics"]["comparison"]["verdict"] == "worse"

    refused = api.post(url + "activate/", {}, content_type="application/json")
    assert refused.status_code == 409 and "lost to the active one" in refused.json()["errors"][0]["message"]
    done = api.post(url + "activate/", {"confirm": True}, content_type="application/json")
    assert done.status_code == 200 and done.json()["is_active"]
    # The active version cannot be compared with itself: a 409, as any other state conflict
    assert api.post(url + "compare/", {}, content_type="application/json").status_code == 409
    # Artists and tokens without the admin scope see none of it
    for outsider in (bearer(alice, ["read", "write"]), bearer(admin_user, ["read", "write"])):
        assert outsider.get(f"/api/v1/admin/comparisons/{comparison_id}/").status_code == 403
