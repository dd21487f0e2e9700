"""Every write the studio makes, one module per idea; callers use the names below, from this package.

- `jobs`: a painting job created from an upload, run by a worker, cancelled and retried;
- `artworks`: a finished artwork retitled or deleted;
- `model_versions`: the model registry (import, upload, validate, activate, roll back);
- `model_comparisons`: a version compared with the active one on the evaluation sheet;
- `style_presets`: the studio's presets;
- `files`: files and rows written or rolled back together, and thumbnails.

Views, admin actions, commands and tasks call these functions; nothing else changes a Job, an Artwork, a
ModelVersion or a Preset. The engine (torch) is imported inside the functions that run in a worker only
(`job_run`, `model_version_validate`, the import), so the web never loads it.
"""

from generator.services.artworks import artwork_delete, artwork_retitle
from generator.services.jobs import (
    job_cancel,
    job_create,
    job_delete,
    job_repeat,
    job_retry,
    job_run,
    job_run_next,
    queue_for,
)
from generator.services.model_comparisons import (
    comparison_request,
    comparison_run,
    latest_comparison,
    lost_to_active,
    what_it_lost,
)
from generator.services.model_versions import (
    check_model_upload,
    model_use_record,
    model_version_activate,
    model_version_rollback,
    model_version_upload,
    model_version_validate,
    model_version_validate_later,
    models_import_shipped,
)
from generator.services.style_presets import (
    check_preset_slug,
    measured_with,
    preset_add_painting,
    presets_measure,
    presets_measure_later,
)
from generator.services.training_runs import (
    run_losses,
    training_cancel,
    training_reap,
    training_request,
    training_work,
)
from generator.uploads import CheckedImage, check_image

__all__ = [
    "CheckedImage",
    "artwork_delete",
    "artwork_retitle",
    "check_image",
    "check_model_upload",
    "check_preset_slug",
    "comparison_request",
    "comparison_run",
    "job_cancel",
    "job_create",
    "job_delete",
    "job_repeat",
    "job_retry",
    "job_run",
    "job_run_next",
    "latest_comparison",
    "lost_to_active",
    "model_use_record",
    "model_version_activate",
    "model_version_rollback",
    "model_version_upload",
    "model_version_validate",
    "model_version_validate_later",
    "models_import_shipped",
    "preset_add_painting",
    "presets_measure",
    "presets_measure_later",
    "measured_with",
    "queue_for",
    "what_it_lost",
    "run_losses",
    "training_cancel",
    "training_reap",
    "training_request",
    "training_work",
]
