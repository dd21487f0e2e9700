"""An upload handler that keeps at most ARTSTUDIO_MAX_UPLOAD_BYTES + 1 bytes of any file
(ARTSTUDIO_MAX_MODEL_BYTES + 1 for a staff member's weights upload in the admin).

Without it a huge upload is spooled to a temporary file in full before the studio can refuse it.
Keeping one byte past the limit lets services.check_image say "larger than the limit" clearly.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

MODEL_FIELD = "weights_file"  # the admin's model upload field: weights are bigger than pictures


class TruncatingUploadHandler(FileUploadHandler):
    def _limit(self) -> int:
        user = getattr(self.request, "user", None)
        if self.field_name == MODEL_FIELD and user is not None and user.is_staff:
            return settings.ARTSTUDIO_MAX_MODEL_BYTES
        return settings.ARTSTUDIO_MAX_UPLOAD_BYTES

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        keep = self._limit() + 1 - start
        return raw_data[:keep] if keep > 0 else None  # None: later handlers never see the rest

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) builds the file
