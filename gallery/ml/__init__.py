"""The gallery's models, pure PyTorch and Pillow (no Django below here): the nudity check (open_nsfw)."""
