"""The assistant's models' own exception, apart from the style engine's ``StyleError``.

A ValueError, as StyleError is: callers that show a bad input's message (the ``assistant`` command)
show this one too. The message says what to do.
"""


class TextModelError(ValueError):
    """A text model's file or package is missing, altered or incomplete; the message says what to do."""
