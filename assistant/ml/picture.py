"""What the assistant sees in a picture: subject words, a colour palette and how bright it is.

The subjects come from the studio's perceptual network (EfficientNet-Lite0, an ImageNet classifier) with
its 1000 classes turned into plain words (``imagenet_words``); the colours from a small k-means in CIELAB,
where distances match how different colours look. ``as_idea`` turns the facts into a short English idea
the text models read as if a person had typed it. Pure PyTorch, NumPy and Pillow: no Django here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import nn

from generator.ml.imaging import MIN_SIDE, load_image, resize_long_side, to_tensor

from .imagenet_words import FLAT_PICTURE, UNCOUNTED, WORDS

SIDE = 224  # the size the network was trained at
WHOLE_SIDE = 256  # the uncropped view's long side; the net pools globally, so any shape is fine
SIDE_VIEWS_FROM = 1.3  # aspect ratio past which the two ends are looked at as well as the centre
TOP_CLASSES = 20  # classes merged into words: enough for all five cat classes, too few to sum up noise
# The page says the network is unsure unless its two best words hold this much probability. Two, not one:
# a scene's mass splits between near-synonyms (seashore and lake, mountain and valley). On the shared
# photos of things ImageNet knows the two best hold 0.40-0.95; on faces (ImageNet has no "person"), the
# raccoon (no such class) and most paintings, under 0.30.
CONFIDENT_FROM = 0.35
IDEA_SHARE = 0.15  # a subject joins the idea text from this share ...
SHOWN_SHARE = 0.05  # ... and the summary from this one
PALETTE_SIZE = 5
PALETTE_SIDE = 64  # k-means runs on at most 64x64 pixels: plenty for five colours, and fast
MERGE_DELTA_E = 10.0  # cluster centres closer than this look like one colour, so they are merged
KMEANS_ROUNDS = 20


@dataclass(frozen=True)
class PictureFacts:
    subjects: list[tuple[str, float]]  # plain words, best first, probabilities 0..1 (summed per word)
    palette: list[tuple[str, float]]  # up to 5 '#rrggbb', largest share first; the shares sum to 1
    colour_words: list[str]  # one plain name per palette colour, in the same order
    brightness: float  # mean CIELAB lightness L* / 100
    brightness_word: str  # dark, dim, balanced or bright
    confident: bool  # False when the network's best guess is weak (an abstract painting, a face)

    @property
    def summary(self) -> str:
        """One sentence for the page, saying plainly what the assistant sees."""
        shown = _likely(self.subjects, SHOWN_SHARE, at_least_one=self.confident)
        things = ", ".join(f"{w} ({round(p * 100)} %)" for w, p in shown)
        if self.confident:
            seen = f"It sees: {things}"
        else:
            seen = "It is not sure what this shows" + (f" (perhaps {things})" if things else "")
        return f"{seen}; colours: {', '.join(_distinct(self.colour_words))}; brightness: {self.brightness_word}."


def describe(image: Image.Image, net: nn.Module, *, top: int = 5) -> PictureFacts:
    """The subjects, palette and brightness of `image`, with `net` an ``EfficientNetLite0`` in eval mode."""
    img = load_image(_at_least(image, MIN_SIDE))  # upright RGB, alpha flattened onto white
    subjects = _subjects(img, net, top=top)
    lab, palette = _palette(img)
    lightness = float(lab[:, 0].mean()) / 100.0
    return PictureFacts(
        subjects=subjects,
        palette=[(_hex(centre), share) for centre, share in palette],
        colour_words=[colour_word(centre) for centre, _ in palette],
        brightness=lightness,
        brightness_word=brightness_word(lightness),
        confident=sum(p for _, p in subjects[:2]) >= CONFIDENT_FROM,
    )


def as_idea(facts: PictureFacts) -> str:
    """A short idea text ("a cat and a sofa, deep blue and warm orange, bright") for the text models."""
    chosen = [w for w, _ in _likely(facts.subjects, IDEA_SHARE, at_least_one=facts.confident)]
    things = _and([_with_article(w) for w in chosen])
    subject = things if facts.confident else f"a picture, perhaps {things}" if things else "a picture"
    colours = _and(_distinct(facts.colour_words)[:3])
    return ", ".join(part for part in (subject, colours, facts.brightness_word) if part)


def _likely(subjects: list[tuple[str, float]], share: float, *, at_least_one: bool) -> list[tuple[str, float]]:
    # A guess of a few per cent is noise, not worth a word, unless the network is sure of the picture as a
    # whole and only split between near-synonyms.
    chosen = [(w, p) for w, p in subjects if p >= share][:3]
    return chosen or (subjects[:1] if at_least_one else [])


def _at_least(image: Image.Image, side: int) -> Image.Image:
    # A sliver or a single pixel is still a colour worth describing: stretch only the short side(s), so
    # the long side, and the memory, stay as they were.
    if min(image.size) >= side:
        return image
    return image.resize((max(image.width, side), max(image.height, side)), Image.Resampling.NEAREST)


# --- subjects -------------------------------------------------------------------------------------------


def _subjects(img: Image.Image, net: nn.Module, *, top: int) -> list[tuple[str, float]]:
    device = next(net.parameters()).device
    with torch.inference_mode():
        # The centre crop is what the network was trained on; the whole picture and, for a wide or tall
        # one, its two ends keep a photo from being judged by its middle alone.
        crops = torch.cat(
            [to_tensor(ImageOps.fit(img, (SIDE, SIDE), Image.Resampling.BICUBIC, centering=c)) for c in _centres(img)]
        ).to(device)
        probs = [net(crops).softmax(dim=1), net(to_tensor(_whole(img)).to(device)).softmax(dim=1)]
        mean = torch.cat(probs).mean(dim=0).double().cpu()  # (1000,)
    best = mean.topk(TOP_CLASSES)
    per_word: dict[str, float] = {}
    for p, index in zip(best.values.tolist(), best.indices.tolist(), strict=True):
        word = WORDS[index]
        # "It looks like a printed picture" is the network's answer for most paintings, not their subject.
        if word not in FLAT_PICTURE:
            per_word[word] = per_word.get(word, 0.0) + p
    return sorted(per_word.items(), key=lambda item: item[1], reverse=True)[:top]


def _centres(img: Image.Image) -> list[tuple[float, float]]:
    aspect = img.width / img.height
    if aspect >= SIDE_VIEWS_FROM:
        return [(0.5, 0.5), (0.0, 0.5), (1.0, 0.5)]
    if aspect <= 1 / SIDE_VIEWS_FROM:
        return [(0.5, 0.5), (0.5, 0.0), (0.5, 1.0)]
    return [(0.5, 0.5)]


def _whole(img: Image.Image) -> Image.Image:
    small = resize_long_side(img, WHOLE_SIDE)
    # A panorama of 10:1 would leave a strip too thin for the network's 32x downsampling to see anything.
    return _at_least(small, MIN_SIDE * 2)


# --- colours --------------------------------------------------------------------------------------------

# sRGB (D65) -> CIE XYZ, and the D65 white point
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_EPS, _KAPPA = 216 / 24389, 24389 / 27


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB in 0..255 -> (..., 3) CIELAB (L* 0..100)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPS, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) CIELAB -> (..., 3) sRGB in 0..255, clipped to the gamut."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA) * _WHITE
    linear = np.clip(xyz @ np.linalg.inv(_RGB_TO_XYZ).T, 0.0, 1.0)
    c = np.where(linear > 0.0031308, 1.055 * linear ** (1 / 2.4) - 0.055, 12.92 * linear)
    return c * 255.0


def _hex(lab: np.ndarray) -> str:
    r, g, b = (int(v + 0.5) for v in lab_to_rgb(lab))
    return f"#{r:02x}{g:02x}{b:02x}"


def _palette(img: Image.Image) -> tuple[np.ndarray, list[tuple[np.ndarray, float]]]:
    """The downscaled picture's pixels in CIELAB (n, 3), and its dominant colours with their shares."""
    small = img.copy()
    # BOX averages whole pixels: no ringing, so no halo colours that are not in the picture.
    small.thumbnail((PALETTE_SIDE, PALETTE_SIDE), Image.Resampling.BOX)
    lab = rgb_to_lab(np.asarray(small, dtype=np.uint8).reshape(-1, 3))
    centres, counts = _kmeans(lab, PALETTE_SIZE)
    centres, counts = _merge_close(centres, counts)
    order = np.argsort(-counts, kind="stable")
    total = counts.sum()
    return lab, [(centres[i], float(counts[i] / total)) for i in order]


def _kmeans(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with a seeded k-means++ start, so one picture always gets the same palette."""
    rng = np.random.default_rng(0)
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        if d2.sum() <= 1e-9:  # fewer distinct colours than k: a flat picture gets a short palette
            break
        centres.append(points[rng.choice(len(points), p=d2 / d2.sum())])
    c = np.array(centres)
    for _ in range(KMEANS_ROUNDS):
        nearest = ((points[:, None, :] - c[None]) ** 2).sum(-1).argmin(axis=1)
        moved = np.array([points[nearest == j].mean(axis=0) if (nearest == j).any() else c[j] for j in range(len(c))])
        if np.allclose(moved, c, atol=1e-3):
            break
        c = moved
    nearest = ((points[:, None, :] - c[None]) ** 2).sum(-1).argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(c)).astype(np.float64)
    keep = counts > 0
    return c[keep], counts[keep]


def _merge_close(centres: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # k-means always finds k clusters; on a nearly flat picture several are the same colour to the eye.
    colours, sizes = list(centres), list(counts)
    merged = True
    while merged and len(colours) > 1:
        merged = False
        for i in range(len(colours)):
            for j in range(i + 1, len(colours)):
                if np.linalg.norm(colours[i] - colours[j]) < MERGE_DELTA_E:
                    total = sizes[i] + sizes[j]
                    colours[i] = (colours[i] * sizes[i] + colours[j] * sizes[j]) / total
                    sizes[i] = total
                    del colours[j], sizes[j]
                    merged = True
                    break
            if merged:
                break
    return np.array(colours), np.array(sizes)


# CIELAB hue angles (degrees) where each name starts, going round; pure sRGB red is at 40, orange 60,
# yellow 103, green 136, cyan 196, blue 306, purple 321, magenta 328.
_HUES = (
    (20, "red"),
    (45, "orange"),
    (75, "yellow"),
    (115, "green"),
    (170, "teal"),
    (230, "blue"),
    (315, "purple"),
    (340, "red"),
)
_WARM = {"red", "orange", "yellow", "brown", "olive"}
_COOL = {"green", "teal", "turquoise", "blue"}
_AS_IS = {"beige", "ochre", "dusty pink"}  # names that already say how light and how strong they are


def colour_word(lab: np.ndarray) -> str:
    """A plain name for a CIELAB colour: "deep blue", "warm orange", "pale grey", "beige" ..."""
    lightness, a, b = (float(v) for v in lab)
    chroma = math.hypot(a, b)
    hue = math.degrees(math.atan2(b, a)) % 360
    if chroma < 12:
        return _grey(lightness, chroma, hue)
    name = _hue_name(hue, lightness, chroma)
    if name in _AS_IS:
        return name
    if lightness < 35:
        return f"{'dark' if name == 'brown' else 'deep'} {name}"
    if lightness > 78:
        return f"pale {name}"
    if chroma < 22:
        return f"muted {name}"
    if chroma > 70:
        return f"vivid {name}"
    if name in _WARM:
        return f"warm {name}"
    if name in _COOL:
        return f"cool {name}"
    return name


def _grey(lightness: float, chroma: float, hue: float) -> str:
    names = ((15, "black"), (35, "dark grey"), (60, "grey"), (85, "pale grey"))
    name = next((n for upto, n in names if lightness < upto), "white")
    if name == "grey" and chroma >= 6:  # a painter tells a warm grey from a cool one
        return "warm grey" if hue < 120 or hue >= 330 else "cool grey"
    return name


def _hue_name(hue: float, lightness: float, chroma: float) -> str:
    base = next((n for start, n in reversed(_HUES) if hue >= start), "red")
    if base in ("orange", "yellow") and chroma < 30 and lightness > 60:
        return "beige"  # skin, sand, parchment
    if 70 <= hue < 95 and 45 <= lightness < 75 and chroma >= 35:
        return "ochre"  # the golden yellow-brown of earth pigments and gilding
    if base == "red" and chroma < 25:
        return "dusty pink" if lightness > 55 else "brown"
    if (base == "orange" and lightness < 60) or (base == "red" and lightness < 45 and chroma < 35):
        return "brown"
    if base == "yellow" and lightness < 60:
        return "brown" if hue < 95 else "olive"
    if base == "teal" and lightness > 65:
        return "turquoise"
    if hue >= 340 or hue < 20:  # the bluish side of red: rose, raspberry, fuchsia
        if lightness > 55:
            return "pink"
        if hue >= 340 and chroma > 50:
            return "magenta"
    if (base == "red" and lightness > 68) or (base == "purple" and lightness > 55 and chroma > 60):
        return "pink"
    return base


def brightness_word(lightness: float) -> str:
    """Mean L*/100 -> dark, dim, balanced or bright (a daylight photo is usually 0.4-0.6)."""
    for upto, word in ((0.25, "dark"), (0.40, "dim"), (0.62, "balanced")):
        if lightness < upto:
            return word
    return "bright"


# --- words ----------------------------------------------------------------------------------------------


def _with_article(word: str) -> str:
    if word in UNCOUNTED:
        return word
    sounds_like_vowel = word[0] in "aeiou" and not word.startswith(("uni", "use", "eu", "one"))
    return f"{'an' if sounds_like_vowel or word.startswith('hour') else 'a'} {word}"


def _and(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _distinct(words: list[str]) -> list[str]:
    return list(dict.fromkeys(words))
