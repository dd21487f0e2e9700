"""The creative assistant: an idea or a picture in; movements, moods, styles to paint and words out."""
