"""`digit-captions`: the offline digits with captions made from what each image shows, for
text-to-image recipes (StackGAN). Nothing is downloaded and nothing is hand-labelled.

Each caption names the class and two attributes measured on the 28x28 image:

- stroke thickness, ink area / skeleton length (``stroke_thickness``), cut at the tertiles of
  the whole set into "thin", "medium" and "thick";
- slant, the horizontal shear of the ink, -cov(x, y) / var(y) with y pointing down
  (``stroke_slant``: positive when the top leans right), cut at the tertiles into
  "leaning left", "upright" and "leaning right".

The wording varies by a seeded choice of template ("a thick 7 leaning right", "thick 7 leaning
right", "a 7 leaning right and thick"), so a text encoder has to read the words, not the
position. Captions are token ids (B, CAPTION_LENGTH), 0 padding; ``tokenize`` reads user text,
with number names ("seven") and "an" accepted as synonyms, and refuses unknown words in one
line listing the vocabulary.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import torch

from ganarium.data import DATASETS, DataInfo, TensorDictDataset, resize_images, to_unit_range
from ganarium.data.digits import digits_arrays
from ganarium.errors import ConfigError, DataError

DIGIT_WORDS = [str(d) for d in range(10)]
THICKNESS_WORDS = ["thin", "medium", "thick"]
SLANT_WORDS = ["leaning left", "upright", "leaning right"]
TEMPLATES = [
    "a {thickness} {digit} {slant}",
    "{thickness} {digit} {slant}",
    "a {digit} {slant} and {thickness}",
]
VOCABULARY = [
    "<pad>",
    "a",
    "and",
    *THICKNESS_WORDS,
    "leaning",
    "left",
    "right",
    "upright",
    *DIGIT_WORDS,
]
SYNONYMS = {
    "an": "a",
    **{
        name: str(d)
        for d, name in enumerate("zero one two three four five six seven eight nine".split())
    },
}
CAPTION_LENGTH = 6


def _ink(images: np.ndarray) -> np.ndarray:
    """Binary ink masks (N, H, W) of images in [0, 255] or [-1, 1]."""
    return images > (127 if images.max() > 1.5 else 0.0)


def stroke_thickness(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """Mean stroke width in pixels of each image (N, H, W) or (N, 1, H, W): ink area over the
    length of its skeleton (0 for an empty image)."""
    from skimage.morphology import skeletonize

    x = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else images
    ink = _ink(x.reshape(len(x), *x.shape[-2:]))
    return np.array([m.sum() / max(1, skeletonize(m).sum()) if m.any() else 0.0 for m in ink])


def stroke_slant(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """Horizontal shear of the ink per image, -cov(x, y) / var(y) with y pointing down:
    positive when the top of the digit is right of its bottom."""
    x = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else images
    ink = _ink(x.reshape(len(x), *x.shape[-2:])).astype(np.float64)
    h, w = ink.shape[1:]
    ys, xs = np.mgrid[0:h, 0:w]
    mass = ink.sum((1, 2)).clip(1)
    my, mx = (ink * ys).sum((1, 2)) / mass, (ink * xs).sum((1, 2)) / mass
    cov = (ink * (ys - my[:, None, None]) * (xs - mx[:, None, None])).sum((1, 2)) / mass
    var = (ink * (ys - my[:, None, None]) ** 2).sum((1, 2)) / mass
    return -cov / np.maximum(var, 1e-6)


def tertiles(values: np.ndarray, cuts: tuple[float, float]) -> np.ndarray:
    """0, 1 or 2 for values below, between and above ``cuts``."""
    return np.digitize(values, cuts)


@lru_cache(maxsize=1)
def attribute_cuts() -> tuple[tuple[float, float], tuple[float, float]]:
    """The tertile cuts of thickness and slant over all 5,000 digits (fixed for the data)."""
    images, _ = digits_arrays("all")
    th, sl = stroke_thickness(images), stroke_slant(images)
    return tuple(np.quantile(th, [1 / 3, 2 / 3])), tuple(np.quantile(sl, [1 / 3, 2 / 3]))


def caption_text(digit: int, thickness: int, slant: int, template: int = 0) -> str:
    """The caption of a digit class with thickness and slant levels (0, 1, 2)."""
    return TEMPLATES[template].format(
        digit=DIGIT_WORDS[digit], thickness=THICKNESS_WORDS[thickness], slant=SLANT_WORDS[slant]
    )


def cycling_captions(n: int) -> list[str]:
    """``n`` captions cycling the ten classes, then the thickness and then the slant words."""
    return [caption_text(i % 10, (i // 10) % 3, (i // 30) % 3) for i in range(n)]


def tokenize(text: str, vocabulary: list[str] | None = None, length: int = CAPTION_LENGTH):
    """One caption -> token ids (length,), 0-padded; an unknown word raises one line."""
    vocab = vocabulary or VOCABULARY
    words = [SYNONYMS.get(w, w) for w in re.findall(r"[a-z0-9]+", text.lower())]
    unknown = [w for w in words if w not in vocab or w == "<pad>"]
    if unknown or not words:
        what = f"unknown word {unknown[0]!r}" if unknown else "an empty caption"
        raise ConfigError(
            f"caption {text!r} has {what}: use words from {' '.join(vocab[1:])} "
            "(number names such as 'seven' work too)"
        )
    if len(words) > length:
        raise ConfigError(f"caption {text!r} has {len(words)} words: use at most {length}")
    ids = [vocab.index(w) for w in words]
    return torch.tensor(ids + [0] * (length - len(ids)), dtype=torch.long)


def tokenize_all(texts: list[str], vocabulary: list[str] | None = None) -> torch.Tensor:
    """Captions -> token ids (N, CAPTION_LENGTH)."""
    return torch.stack([tokenize(t, vocabulary) for t in texts])


@DATASETS.register(
    "digit-captions",
    description="the offline digits with captions of class, stroke thickness and slant",
    splits=("train", "test"),
)
def digit_captions(split: str = "train", size: int = 16, seed: int = 0) -> TensorDictDataset:
    """Digits (1, size, size) in [-1, 1] with ``caption`` token ids, the ``label`` and the
    measured attribute levels ``thickness`` and ``slant`` (0, 1, 2)."""
    if not 4 <= size <= 256:
        raise DataError(f"digit-captions size={size} is out of range: use 4..256 (e.g. 16)")
    images, labels = digits_arrays(split)
    (t_cuts, s_cuts) = attribute_cuts()
    thickness = tertiles(stroke_thickness(images), t_cuts)
    slant = tertiles(stroke_slant(images), s_cuts)
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, len(TEMPLATES), len(labels))
    captions = tokenize_all(
        [caption_text(*map(int, a)) for a in zip(labels, thickness, slant, templates)]
    )
    x = resize_images(to_unit_range(torch.from_numpy(images)).unsqueeze(1), size)
    y = torch.from_numpy(labels)
    info = DataInfo(
        name="digit-captions",
        shape=(1, size, size),
        num_classes=10,
        extractor="digit-classifier",
        domain="digits",
        vocabulary=tuple(VOCABULARY),
        caption_length=CAPTION_LENGTH,
    )
    tensors = {
        "image": x.contiguous(),
        "label": y,
        "caption": captions,
        "thickness": torch.from_numpy(thickness).long(),
        "slant": torch.from_numpy(slant).long(),
    }
    return TensorDictDataset(tensors, info)
