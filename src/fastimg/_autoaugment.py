"""TrivialAugmentWide and RandAugment (torchvision's, as its PIL path computes them) as a table for the
native pipeline: every (op, magnitude bin, sign) a sample can draw, with the op's parameters worked out here
in Python exactly as torchvision and Pillow work them out (float32 magnitude bins, the inverse affine
matrix, Pillow's rotation matrix rounded to 15 decimals), so the core only applies them. Entries are 8
floats: kind, then up to 7 parameters. Torch-free."""

from __future__ import annotations

import functools
import math
from typing import Optional

import numpy as np

# Kinds the core applies (pipeline.hpp's AugmentKind).
IDENTITY, AFFINE, BRIGHTNESS, COLOR, CONTRAST, SHARPNESS, POSTERIZE, SOLARIZE, AUTOCONTRAST, EQUALIZE = range(10)
ROTATE_90, ROTATE_270, INVERT = 10, 11, 12  # Pillow's rotate by a transpose (square images); ImageOps.invert
ENTRY = 8

# torchvision's TrivialAugmentWide._augmentation_space, in its order: (name, kind, magnitudes, signed).
OPS = (
    "Identity",
    "ShearX",
    "ShearY",
    "TranslateX",
    "TranslateY",
    "Rotate",
    "Brightness",
    "Color",
    "Contrast",
    "Sharpness",
    "Posterize",
    "Solarize",
    "AutoContrast",
    "Equalize",
)
SIGNED = {"ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color", "Contrast", "Sharpness"}


def linspace32(start: float, end: float, steps: int) -> np.ndarray:
    """torchvision's magnitude bins, torch.linspace(start, end, steps) in float32: here each the float32
    nearest the exact value (torch's own kernel adds its step per SIMD lane, so its last bits depend on the
    CPU's vector width; the table reports the values it uses, see Transform.params)."""
    return np.array([start + (end - start) * i / (steps - 1) for i in range(steps)], np.float64).astype(np.float32)


def magnitudes(
    name: str, bins: int, policy: str = "trivial_augment_wide", width: int = 0, height: int = 0
) -> np.ndarray:
    """The op's magnitude bins in the policy's augmentation space (TrivialAugmentWide's or RandAugment's)."""
    wide = policy == "trivial_augment_wide"
    if name in ("ShearX", "ShearY"):
        return linspace32(0.0, 0.99 if wide else 0.3, bins)
    if name in ("Brightness", "Color", "Contrast", "Sharpness"):
        return linspace32(0.0, 0.99 if wide else 0.9, bins)
    if name in ("TranslateX", "TranslateY"):
        side = width if name == "TranslateX" else height
        return linspace32(0.0, 32.0 if wide else 150.0 / 331.0 * side, bins)
    if name == "Rotate":
        return linspace32(0.0, 135.0 if wide else 30.0, bins)
    if name == "Posterize":  # 8 - (arange(bins) / ((bins - 1) / k)).round().int(), k = 6 (wide) or 4
        steps = np.arange(bins, dtype=np.int64).astype(np.float32) / np.float32((bins - 1) / (6 if wide else 4))
        return (8 - np.round(steps).astype(np.int32)).astype(np.float32)
    if name == "Solarize":
        return linspace32(255.0, 0.0, bins)
    return np.zeros(1, np.float32)  # Identity, AutoContrast, Equalize: no magnitude


def inverse_affine(
    center: tuple[float, float], angle: float, translate: tuple[float, float], shear: tuple[float, float]
) -> list[float]:
    """torchvision's _get_inverse_affine_matrix (scale 1)."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d, -b, 0.0, -c, a, 0.0]
    m = [x / 1.0 for x in m]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def pillow_rotation(angle: float, width: int, height: int) -> tuple[int, list[float]]:
    """Pillow's Image.rotate(angle) (no expand, centre (w/2, h/2)): a transpose or an affine matrix."""
    angle = angle % 360.0
    if angle == 0:
        return IDENTITY, []
    if angle in (90, 270) and width == height:
        return (ROTATE_90 if angle == 90 else ROTATE_270), []
    center = (width / 2, height / 2)
    rad = -math.radians(angle)
    m = [
        round(math.cos(rad), 15),
        round(math.sin(rad), 15),
        0.0,
        round(-math.sin(rad), 15),
        round(math.cos(rad), 15),
        0.0,
    ]
    x, y = -center[0], -center[1]
    m[2], m[5] = m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]
    m[2] += center[0]
    m[5] += center[1]
    return AFFINE, m


def entry(name: str, magnitude: float, width: int, height: int) -> list[float]:
    """torchvision's _apply_op(img, name, magnitude) on a PIL image of width x height, as a table entry."""
    if name in ("ShearX", "ShearY"):
        shear = math.degrees(math.atan(magnitude))
        kind, params = AFFINE, inverse_affine((0, 0), 0.0, (0, 0), (shear, 0.0) if name == "ShearX" else (0.0, shear))
    elif name in ("TranslateX", "TranslateY"):
        shift = (int(magnitude), 0) if name == "TranslateX" else (0, int(magnitude))
        kind, params = AFFINE, inverse_affine((width * 0.5, height * 0.5), 0.0, shift, (0.0, 0.0))
    elif name == "Rotate":
        kind, params = pillow_rotation(magnitude, width, height)
    elif name in ("Brightness", "Color", "Contrast", "Sharpness"):
        kind = {"Brightness": BRIGHTNESS, "Color": COLOR, "Contrast": CONTRAST, "Sharpness": SHARPNESS}[name]
        params = [1.0 + magnitude]
    elif name == "Posterize":
        kind, params = POSTERIZE, [float(int(magnitude))]
    elif name == "Solarize":
        kind, params = SOLARIZE, [magnitude]
    else:
        kind, params = {"AutoContrast": AUTOCONTRAST, "Equalize": EQUALIZE, "Invert": INVERT}.get(name, IDENTITY), []
    return [float(kind), *params, *[0.0] * (ENTRY - 1 - len(params))]


RAND_AUGMENT_MAGNITUDE, BINS = 9, 31  # RandAugment() defaults: magnitude 9 of 31 bins, 2 ops


Step = tuple[str, float, Optional[int]]
Policy = tuple[tuple[Step, Step], ...]

# torchvision's AutoAugmentPolicy.IMAGENET: 25 sub-policies of two (op, probability, magnitude bin of 10).
IMAGENET_POLICY: Policy = (
    (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
    (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
    (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
    (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
    (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
    (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
    (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
    (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
    (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
    (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
    (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
    (("Color", 0.4, 0), ("Equalize", 0.6, None)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
)


# AutoAugmentPolicy.CIFAR10 and .SVHN, as torchvision lists them.
CIFAR10_POLICY: Policy = (
    (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
    (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
    (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
    (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
    (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
    (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
    (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
    (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
    (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
    (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
    (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
    (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
    (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
    (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
    (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
    (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
    (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
    (("Color", 0.9, 9), ("Equalize", 0.6, None)),
    (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
    (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
    (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
    (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
    (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
    (("Equalize", 0.8, None), ("Invert", 0.1, None)),
    (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
)
SVHN_POLICY: Policy = (
    (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
    (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
    (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
    (("Invert", 0.9, None), ("Equalize", 0.6, None)),
    (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
    (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
    (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
    (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
    (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
    (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
    (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
    (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
    (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
    (("Invert", 0.9, None), ("Equalize", 0.6, None)),
    (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
    (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
    (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
    (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
    (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
    (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
    (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
    (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
    (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
    (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
    (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
)
POLICIES: dict[str, Policy] = {"auto_augment_imagenet": IMAGENET_POLICY, "auto_augment_cifar10": CIFAR10_POLICY}
POLICIES["auto_augment_svhn"] = SVHN_POLICY


def policy_probabilities(policy: str) -> list[float]:
    """Per (sub-policy, step) the probability of applying it; empty for the policies that draw ops."""
    return [p for sub in POLICIES.get(policy, ()) for _, p, _ in sub]


def table(policy: str, width: int, height: int) -> tuple[list[float], int, int]:
    """(entries, bins, steps) of the policy: TrivialAugmentWide draws one op and one of 31 bins; RandAugment
    draws num_ops=2 ops at the fixed magnitude 9 (so its table has one bin)."""
    values: list[float] = []
    bins = BINS if policy == "trivial_augment_wide" else 1
    steps = {"trivial_augment_wide": 1, "rand_augment": 2}.get(policy, 2)
    for name, magnitude in entry_values(policy, width, height):
        values += entry(name, magnitude, width, height)
    return values, bins, steps


@functools.lru_cache(maxsize=16)  # Transform.params looks entries up per sample
def entry_values(policy: str, width: int, height: int) -> tuple[tuple[str, float], ...]:
    """(op name, signed magnitude) of every table entry, in table order: op, bin, then sign (+, -)."""
    out: list[tuple[str, float]] = []
    if policy in POLICIES:  # AutoAugment: (sub-policy, step, sign), magnitudes from 10 bins
        for sub in POLICIES[policy]:
            for name, _, bin_ in sub:
                m = 0.0 if bin_ is None else float(magnitudes(name, 10, "auto_augment", width, height)[bin_])
                out += [(name, m), (name, -m if name in SIGNED else m)]
        return tuple(out)
    for name in OPS:
        values = magnitudes(name, BINS, policy, width, height)
        chosen = list(range(BINS)) if policy == "trivial_augment_wide" else [RAND_AUGMENT_MAGNITUDE]
        for b in chosen:
            for sign in (1.0, -1.0):
                m = float(values[min(b, len(values) - 1)])
                out.append((name, m * sign if name in SIGNED else m))
    return tuple(out)
