"""The schema's description of what can go wrong: every operation lists the errors it can answer, in the one
shape api.errors gives them, so a client (and the contract tests) know every status code the API may send."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before asking again"}}


class ApiSchema(AutoSchema):
    def _errors(self) -> dict[str, str]:
        errors = {
            "401": "No token or session, or a token that is unknown, revoked or expired",
            "403": "A token without the scope this needs (or not staff, for the admin's endpoints)",
            "429": "Too many requests: Retry-After says when to ask again",
        }
        if self.method in ("POST", "PUT", "PATCH") or self.get_override_parameters() or self._is_list_view():
            errors["400"] = "Something in the request to fix: each error names its field"
        if self.method in ("POST", "PUT", "PATCH"):
            errors["415"] = "A body in a media type this operation does not read"
        if getattr(self.view, "action", None) in getattr(self.view, "state_actions", ()):
            errors["409"] = "The thing it acts on is not in a state that allows it"
        if getattr(self.view, "action", None) in getattr(self.view, "looks_up", ()):
            errors["404"] = "Something the request names is not there, or not the caller's"
        if "{" in self.path or (self._is_list_view() and self._get_paginator() is not None):
            errors["404"] = "Not there, or not the caller's (a list: a cursor that is not one of ours)"
        return errors

    def _get_response_bodies(self, direction="response"):
        from api.serializers import ErrorsSerializer

        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in self._errors().items():
            if code not in responses:
                responses[code] = {**self._get_response_for_code(ErrorsSerializer, code), "description": description}
        responses["429"]["headers"] = RETRY_AFTER
        return responses


# How operations chain (OpenAPI links): what one answers names what the next acts on. A client reads them as
# documentation; the contract tests follow them to build sequences (make a board, share it, revoke the link).
FIRST = "$response.body#/results/0"  # a list's first item
_ID, _ARTWORK = {"id": "$response.body#/id"}, {"artwork": "$response.body#/artwork"}
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict, dict]]] = {
    ("v1_boards_create", "201"): {
        "ReadBoard": ("v1_boards_retrieve", _ID, {}),
        "ChangeBoard": ("v1_boards_partial_update", _ID, {}),
        "DeleteBoard": ("v1_boards_destroy", _ID, {}),
        "ShareBoard": ("v1_links_create", {}, {"board": "$response.body#/id"}),
        "ItsLinks": ("v1_links_list", {"board": "$response.body#/id"}, {}),
        "ItsArtworks": ("v1_artworks_list", {"board": "$response.body#/id"}, {}),
    },
    ("v1_boards_list", "200"): {
        "ReadBoard": ("v1_boards_retrieve", {"id": f"{FIRST}/id"}, {}),
        "ShareBoard": ("v1_links_create", {}, {"board": f"{FIRST}/id"}),
    },
    ("v1_links_create", "201"): {
        "ReadLink": ("v1_links_retrieve", _ID, {}),
        "RevokeLink": ("v1_links_revoke_create", _ID, {}),
    },
    ("v1_links_list", "200"): {"RevokeLink": ("v1_links_revoke_create", {"id": f"{FIRST}/id"}, {})},
    ("v1_jobs_create", "201"): {
        "ReadJob": ("v1_jobs_retrieve", _ID, {}),
        "CancelJob": ("v1_jobs_cancel_create", _ID, {}),
        "RetryJob": ("v1_jobs_retry_create", _ID, {}),
    },
    ("v1_jobs_cancel_create", "200"): {"RetryJob": ("v1_jobs_retry_create", _ID, {})},
    ("v1_jobs_list", "200"): {"ReadJob": ("v1_jobs_retrieve", {"id": f"{FIRST}/id"}, {})},
    ("v1_ideas_create", "201"): {
        "ReadIdea": ("v1_ideas_retrieve", _ID, {}),
        "Words": ("v1_ideas_words_retrieve", _ID, {}),
        "CancelIdea": ("v1_ideas_cancel_create", _ID, {}),
        "SaveIdea": ("v1_ideas_partial_update", _ID, {}),
        "DeleteIdea": ("v1_ideas_destroy", _ID, {}),
    },
    ("v1_artworks_list", "200"): {
        "ReadArtwork": ("v1_artworks_retrieve", {"id": f"{FIRST}/id"}, {}),
        "ChangeArtwork": ("v1_artworks_partial_update", {"id": f"{FIRST}/id"}, {}),
        "PaintAgain": ("v1_jobs_create", {}, {"from_artwork": f"{FIRST}/id"}),
    },
    ("v1_artworks_retrieve", "200"): {
        "Image": ("v1_artworks_image_retrieve", _ID, {}),
        "Thumbnail": ("v1_artworks_thumbnail_retrieve", _ID, {}),
        "ChangeArtwork": ("v1_artworks_partial_update", _ID, {}),
        "DeleteArtwork": ("v1_artworks_destroy", _ID, {}),
    },
    ("v1_admin_models_create", "201"): {
        "ReadVersion": ("v1_admin_models_retrieve", _ID, {}),
        "ValidateVersion": ("v1_admin_models_validate_create", _ID, {}),
    },
    ("v1_admin_models_list", "200"): {
        "ActivateVersion": ("v1_admin_models_activate_create", {"id": f"{FIRST}/id"}, {}),
        "RollBack": ("v1_admin_models_rollback_create", {}, {"kind": f"{FIRST}/kind", "slot": f"{FIRST}/slot"}),
    },
    ("v1_admin_moderation_list", "200"): {
        name: (f"v1_admin_moderation_{verb}", {"artwork": f"{FIRST}/artwork"}, {})
        for name, verb in (("Approve", "approve_create"), ("Reject", "reject_create"), ("Picture", "picture_retrieve"))
    },
    ("v1_admin_moderation_reject_create", "200"): {"CheckAgain": ("v1_admin_moderation_recheck_create", _ARTWORK, {})},
}


def add_links(result, generator, request, public):
    """drf-spectacular's post-processing hook: LINKS into the responses they start from."""
    operations = {
        operation["operationId"]: operation
        for methods in result["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for (source, status), links in LINKS.items():
        response = operations[source]["responses"][status]
        response["links"] = {
            name: {"operationId": target, **({"parameters": parameters} if parameters else {}),
                   **({"requestBody": body} if body else {})}
            for name, (target, parameters, body) in links.items()
        }  # fmt: skip
        for target, _parameters, _body in links.values():
            assert target in operations, f"a link to {target}, which the schema does not have"
    return result
