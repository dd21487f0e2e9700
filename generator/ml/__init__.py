"""Artstudio's style engine: pure PyTorch and Pillow.

Nothing below this package imports Django, so the engine runs in a Celery worker, a command
line or a notebook alike. The public surface is small:

- ``generator.ml.engine.stylize(...)``: one call for every kind of style (preset, image, blend).
- ``generator.ml.presets``: the built-in preset library.
- ``generator.ml.errors.StyleError``: the one exception bad input raises.
"""
