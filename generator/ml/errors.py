"""The engine's exceptions.

Bad input raises ``StyleError`` with a message a person can act on; callers show the message
as it is. ``Cancelled`` is raised when a caller's cancel flag stops a run.
"""


class StyleError(ValueError):
    """Bad input to the style engine (image, preset, parameter); the message says what to do."""


class Cancelled(Exception):
    """A run was stopped by its cancel flag before it finished."""


class Paused(Exception):
    """A training run stopped at a step to give its worker to other work; its checkpoint resumes it."""
