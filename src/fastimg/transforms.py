"""Transform: a validated, immutable description of what each image becomes, compiled once to the
native pipeline's spec. Sizes are (height, width) or an int, as in torchvision."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Optional, Protocol, TypedDict, Union

import numpy as np

from . import _core
from ._torchvision import dtype_name as _dtype_name
from ._torchvision import interpolation_name, transform_options
from ._validate import INDEX_LIMIT, as_int, int_arg, seed_and_epoch
from .decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SCANS

if TYPE_CHECKING:
    import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_DTYPES = {"float32": _core.OutputType.FLOAT32, "float16": _core.OutputType.FLOAT16, "uint8": _core.OutputType.UINT8}
_LAYOUTS = {"NCHW": _core.Layout.NCHW, "NHWC": _core.Layout.NHWC}
_CROPS = {None: _core.CropMode.NONE, "center": _core.CropMode.CENTER, "random_resized": _core.CropMode.RANDOM_RESIZED}
_CROPS["random"] = _core.CropMode.RANDOM
_FILTERS = {"bilinear": _core.Filter.BILINEAR, "bicubic": _core.Filter.BICUBIC, "nearest": _core.Filter.NEAREST}

Size = Union[int, tuple[int, int]]

Crop = Literal["center", "random_resized", "random"]
Layout = Literal["NCHW", "NHWC"]
DTypeName = Literal["float32", "float16", "uint8"]
FilterName = Literal["bilinear", "bicubic", "nearest"]


class InterpolationModeLike(Protocol):
    """torchvision's ``InterpolationMode`` (an enum whose value is the name), matched without importing it."""

    @property
    def value(self) -> str: ...


# The values the parameters accept. Names are matched in any letter case at run time (interpolation) but
# typed in the spelling the docs use; dtypes also as numpy's or torch's dtype objects.
TransformInterpolation = Union[FilterName, InterpolationModeLike]
TransformDType = Union[DTypeName, "np.dtype[Any]", "type[np.generic]", "torch.dtype"]


class TransformParams(TypedDict):
    """``Transform.params``: what the Transform does to one sample."""

    box: tuple[float, float, float, float]
    flip: bool
    brightness: float
    contrast: float
    saturation: float
    hue: float
    jitter_order: list[int]
    vflip: bool
    grayscale: bool
    erase: Optional[tuple[int, int, int, int]]
    padding: Optional[tuple[int, int, int, int]]
    augment: tuple[tuple[str, float], ...]


def _hw(value: Any, name: str) -> tuple[int, int]:
    single = as_int(value)
    if single is not None:
        pair = (single, single)
    elif (
        isinstance(value, (Sequence, np.ndarray))
        and not isinstance(value, str)
        and len(value) in (1, 2)
        and all(as_int(v) is not None for v in value)
    ):
        pair = (int(value[0]), int(value[-1]))
    else:
        raise TypeError(f"{name} must be an int or a (height, width) pair, got {value!r}")
    if pair[0] <= 0 or pair[1] <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return pair


def _range(value: Any, name: str, lo_bound: float, hi_bound: Optional[float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (min, max) pair, got {value!r}") from None
    if not (lo_bound < lo <= hi) or (hi_bound is not None and hi > hi_bound):
        bound = f"<= {hi_bound}" if hi_bound is not None else ""
        raise ValueError(f"{name} must satisfy {lo_bound} < min <= max {bound}, got {value!r}")
    return lo, hi


def _triple(value: Any, name: str) -> tuple[float, float, float]:
    """Three floats from a list, tuple, numpy array or tensor (one per RGB channel), in 0-1 units."""
    try:
        items = (float(value),) if isinstance(value, numbers.Real) else tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be 'imagenet', None or 3 numbers, got {value!r}") from None
    if len(items) == 1:  # one value for every channel, as torchvision's Normalize broadcasts it
        items *= 3
    if len(items) != 3:
        raise ValueError(f"{name} must have 3 values (one per RGB channel), got {value!r}")
    if any(abs(v) > 1.0 for v in items):
        # (pixel / 255 - mean) / std: a mean in 0-255 units would push every value far negative.
        scaled = ", ".join(f"{v / 255:.4g}" for v in items)
        raise ValueError(
            f"{name}={list(items)} looks like 0-255 units, but float output scales pixels to 0-1 first: "
            f"use {name}=({scaled})"
        )
    return items[0], items[1], items[2]


def _named(value: Any, name: str) -> bool:
    return isinstance(value, str) and value == name


def _jitter(value: Any) -> tuple[float, float, float, float]:
    """(brightness, contrast, saturation, hue) amounts from None, a number (the first three), a dict or a
    3- or 4-sequence."""
    names = ("brightness", "contrast", "saturation", "hue")
    if value is None:
        return (0.0, 0.0, 0.0, 0.0)
    amounts: tuple[float, ...]
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        amounts = (float(value),) * 3 + (0.0,)
    elif isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"color_jitter: unknown keys {sorted(unknown)}")
        amounts = tuple(float(value.get(k, 0.0)) for k in names)
    else:
        try:
            amounts = tuple(float(v) for v in value)
        except TypeError:
            raise TypeError(
                f"color_jitter must be None, a number, a dict or (brightness, contrast, saturation[, hue]), got "
                f"{value!r}"
            ) from None
        if len(amounts) not in (3, 4):
            raise ValueError(
                f"color_jitter must have 3 or 4 amounts (brightness, contrast, saturation, hue), got {value!r}"
            )
        amounts = amounts + (0.0,) * (4 - len(amounts))
    if any(a < 0 for a in amounts):
        raise ValueError(f"color_jitter amounts must be >= 0, got {value!r}")
    if amounts[3] > 0.5:
        raise ValueError(f"color_jitter hue must be in [0, 0.5], got {amounts[3]}")
    return amounts[0], amounts[1], amounts[2], amounts[3]


class Transform:
    """What each image becomes, with torchvision's meaning of every parameter. Immutable and validated.

    Parameters:
    - ``size``: output (height, width), or an int for a square (torchvision's order; the numpy ops take
      (width, height)).
    - ``resize``: ``Resize`` before a crop: an int resizes the shorter side to it (``crop="center"``
      needed), a (height, width) pair resizes to exactly that.
    - ``max_size``: torchvision's ``Resize(int, max_size=...)``: when the longer side would exceed it, the
      longer side becomes ``max_size`` instead (an int ``resize`` only, larger than it).
    - ``crop``: ``None`` stretches the whole image to ``size``; ``"center"`` is ``CenterCrop(size)`` (after
      ``resize`` if given; an image smaller than the crop is padded with zeros, as torchvision does);
      ``"random_resized"`` is ``RandomResizedCrop(size, scale, ratio)``.
    - ``scale``, ``ratio``: RandomResizedCrop's area fraction and aspect-ratio ranges, as (min, max).
    - ``hflip``: probability of a horizontal flip (0.5 = ``RandomHorizontalFlip()``; a bool is refused).
    - ``crop="random"`` with ``padding``: ``RandomCrop(size, padding)``: the image with ``padding`` zero
      pixels around it, cropped at a uniform position (the CIFAR recipe's ``RandomCrop(32, padding=4)``).
    - ``vflip``: probability of a vertical flip (``RandomVerticalFlip(p)``).
    - ``grayscale``: probability of turning the image grey, three equal channels (``RandomGrayscale(p)``;
      1.0 is ``Grayscale(3)``), after the colour jitter.
    - ``erasing``: ``RandomErasing`` on the finished output: its probability, or a dict with ``p``,
      ``scale``, ``ratio`` and ``value`` (one number or three, in the output's units, after normalisation).
    - ``auto_augment``: ``"trivial_augment_wide"`` is torchvision's ``TrivialAugmentWide()`` (31 magnitude
      bins), ``"rand_augment"`` its ``RandAugment()`` (2 ops at magnitude 9 of 31),
      ``"auto_augment_imagenet"`` / ``"auto_augment_cifar10"`` / ``"auto_augment_svhn"`` its
      ``AutoAugment(policy)``, all nearest with zero fill,
      on the cropped and flipped image, before the colour jitter.
    - ``color_jitter``: ``ColorJitter`` brightness, contrast, saturation and hue amounts: a number for the
      first three, a dict or a (brightness, contrast, saturation[, hue]) sequence; hue in [0, 0.5].
    - ``mean``, ``std``: ``"imagenet"``, None (scale to 0..1 only) or three numbers in 0-1 units (a list,
      tuple, numpy array or tensor); 0-255 values are refused with the 0-1 ones in the message.
    - ``dtype``: ``"float32"``, ``"float16"`` or ``"uint8"`` (raw pixels, no normalisation), or the
      numpy/torch dtype. ``layout``: ``"NCHW"`` or ``"NHWC"``.
    - ``interpolation``: ``"bilinear"`` (default), ``"bicubic"`` or ``"nearest"``, or torchvision's
      ``InterpolationMode``; Pillow's filters. ``antialias=True`` (default) widens the filter when
      shrinking, as Pillow and torchvision do; ``False`` keeps it at its own width (faster, aliased).
    - ``exact``: torchvision's reference pixels: JPEGs are decoded at full size with the accurate IDCT
      (no DCT-domain downscale) to RGB and resampled with Pillow's arithmetic, so output equals Pillow 13's
      decode + resize + crop. The default decodes at a reduced scale when the crop allows it and resamples
      colour JPEGs as YCbCr planes: faster, about half a level away on average, single pixels up to ~35
      levels at saturated colour edges (benchmarks/results/accuracy.md has the figures).
    - ``strict``: True (default) refuses JPEGs with damage inside a scan; False delivers them as Pillow and
      OpenCV do and records each in ``Batch.warnings`` (truncated files stay errors).
    - ``apply_exif_orientation``: rotate/flip as the EXIF (or XMP) orientation says, for JPEG, PNG, WebP
      and TIFF, as Pillow's ``exif_transpose`` (torchvision does not).
    - ``fast_dct``: libjpeg-turbo's fast integer IDCT: about 20% faster full-size JPEG decoding for
      differences of a level or two (not with ``exact``).
    - ``max_pixels``, ``max_scans``, ``max_bytes``: safety limits per image (pixels from the header,
      progressive JPEG scans, encoded bytes); an image over a limit is a ``DecodeError``.

    Raises TypeError for values of the wrong kind and ValueError for values out of range, naming the
    parameter. ``Transform.from_torchvision(compose)`` converts a torchvision pipeline.
    """

    size: tuple[int, int]
    resize: Optional[Union[int, tuple[int, int]]]
    max_size: Optional[int]
    crop: Optional[Crop]
    scale: tuple[float, float]
    ratio: tuple[float, float]
    hflip: float
    padding: int
    vflip: float
    grayscale: float
    erasing: Optional[tuple[float, tuple[float, float], tuple[float, float], tuple[float, float, float]]]
    auto_augment: Optional[str]
    color_jitter: Optional[tuple[float, ...]]
    mean: Optional[tuple[float, float, float]]
    std: Optional[tuple[float, float, float]]
    dtype: DTypeName
    layout: Layout
    interpolation: FilterName
    antialias: bool
    exact: bool
    strict: bool
    apply_exif_orientation: bool
    fast_dct: bool
    max_pixels: int
    max_scans: int
    max_bytes: int
    _spec: Any

    __slots__ = (
        "_spec",
        "antialias",
        "apply_exif_orientation",
        "auto_augment",
        "color_jitter",
        "crop",
        "dtype",
        "erasing",
        "exact",
        "fast_dct",
        "grayscale",
        "hflip",
        "interpolation",
        "layout",
        "max_bytes",
        "max_pixels",
        "max_scans",
        "max_size",
        "mean",
        "padding",
        "ratio",
        "resize",
        "scale",
        "size",
        "std",
        "strict",
        "vflip",
    )

    def __init__(
        self,
        size: Size,
        *,
        resize: Optional[Size] = None,
        max_size: Optional[int] = None,
        crop: Optional[Crop] = None,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        hflip: float = 0.0,
        padding: int = 0,
        vflip: float = 0.0,
        grayscale: float = 0.0,
        erasing: Any = None,
        auto_augment: Optional[str] = None,
        color_jitter: Any = None,
        mean: Any = "imagenet",
        std: Any = "imagenet",
        dtype: TransformDType = "float32",
        layout: Layout = "NCHW",
        interpolation: TransformInterpolation = "bilinear",
        antialias: bool = True,
        exact: bool = False,
        strict: bool = True,
        apply_exif_orientation: bool = False,
        fast_dct: bool = False,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_scans: int = DEFAULT_MAX_SCANS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        out_h, out_w = _hw(size, "size")
        dtype_name, filter_name = _check_choices(crop, dtype, layout, interpolation, exact, fast_dct)
        _check_hflip(hflip)
        limits = {
            name: int_arg(value, name, minimum=1)
            for name, value in (("max_pixels", max_pixels), ("max_scans", max_scans), ("max_bytes", max_bytes))
        }
        flags = _flags(antialias, exact, strict, apply_exif_orientation, fast_dct)
        spec = _core.TransformSpec()
        spec.height, spec.width = out_h, out_w
        spec.crop = _CROPS[crop]
        resize_value = _resize_into(spec, resize, crop, out_h, out_w)
        max_size_value = _max_size_into(spec, max_size, resize_value)
        scale_range = _range(scale, "scale", 0.0, 1.0)
        ratio_range = _range(ratio, "ratio", 0.0, None)
        spec.scale_min, spec.scale_max = scale_range
        spec.ratio_min, spec.ratio_max = ratio_range
        spec.hflip = float(hflip)
        augment = _augment_into(spec, crop, padding, vflip, grayscale, erasing, auto_augment)
        jitter = _jitter(color_jitter)
        spec.brightness, spec.contrast, spec.saturation, spec.hue = jitter
        mean_v, std_v = _mean_std(dtype_name, mean, std)
        spec.mean = list(mean_v) if mean_v is not None else [0.0, 0.0, 0.0]
        spec.std = list(std_v) if std_v is not None else [1.0, 1.0, 1.0]
        spec.dtype, spec.layout, spec.filter = _DTYPES[dtype_name], _LAYOUTS[layout], _FILTERS[filter_name]
        for flag in ("antialias", "exact", "apply_exif_orientation", "fast_dct"):
            setattr(spec, flag, flags[flag])
        spec.limits = _core.DecodeLimits(**limits, strict=flags["strict"])
        spec.validate()
        values = dict(
            size=(out_h, out_w),
            resize=resize_value,
            max_size=max_size_value,
            crop=crop,
            scale=scale_range,
            ratio=ratio_range,
            hflip=float(hflip),
            **augment,
            color_jitter=(jitter if jitter[3] else jitter[:3]) if any(jitter) else None,
            mean=mean_v,
            std=std_v,
            dtype=dtype_name,
            layout=layout,
            interpolation=filter_name,
            **flags,
            **limits,
            _spec=spec,
        )
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @classmethod
    def from_torchvision(cls, transform: Any, **overrides: Any) -> Transform:
        """The Transform that does what ``transform`` does: a torchvision ``Compose`` (v1 or v2) of one
        geometry (RandomResizedCrop, RandomCrop, Resize, CenterCrop, or Resize then CenterCrop), the flips,
        ColorJitter, Grayscale/RandomGrayscale, ToTensor/ToImage/ToDtype, Normalize and RandomErasing, in
        that order (a flip may also come before RandomResizedCrop or Resize, or after ToTensor);
        ``overrides`` (e.g. ``exact=True``) are applied on top. Raises ValueError naming a step that has no
        fastimg equivalent or sits where fastimg cannot reproduce it exactly."""
        options = transform_options(transform)
        size = options.pop("size")
        options.update(overrides)
        return cls(size, **options)

    @classmethod
    def imagenet_train(cls, size: Size = 224, **overrides: Any) -> Transform:
        """torchvision's training chain: RandomResizedCrop(size) + RandomHorizontalFlip() + Normalize
        (ImageNet statistics); ``size`` is (height, width) or an int, ``overrides`` any other Transform
        parameter (e.g. ``interpolation="bicubic"``)."""
        return cls(size, **{"crop": "random_resized", "hflip": 0.5, **overrides})

    @classmethod
    def imagenet_eval(cls, size: Size = 224, **overrides: Any) -> Transform:
        """torchvision's evaluation chain: Resize(size * 256 / 224) + CenterCrop(size) + Normalize
        (ImageNet statistics); ``size`` is (height, width) or an int, ``overrides`` any other Transform
        parameter (e.g. ``exact=True`` for torchvision's own pixels)."""
        h, w = _hw(size, "size")
        return cls(size, **{"resize": int(max(h, w) * 256 / 224), "crop": "center", **overrides})

    def replace(self, **changes: Any) -> Transform:
        """A new Transform with the parameters in ``changes`` replaced (validated again)."""
        fields = {k: getattr(self, k) for k in self.__slots__ if k not in ("_spec", "size")}
        fields.update(changes)
        size = fields.pop("size", self.size)
        return Transform(size, **fields)

    def params(self, width: int, height: int, index: int, *, seed: int = 0, epoch: int = 0) -> TransformParams:
        """What this Transform does to sample ``index`` of epoch ``epoch`` under ``seed`` (as ``load_batch``
        and the datasets key it) for an image of ``width`` x ``height`` displayed pixels: ``box`` (x0, y0,
        x1, y1), the source rectangle the output is resampled from (for RandomResizedCrop torchvision's
        crop box, as ``get_params`` would draw it); ``flip``; the colour jitter factors ``brightness``,
        ``contrast``, ``saturation``, ``hue`` with ``jitter_order`` (0 brightness, 1 contrast, 2 saturation, 3
        hue when it jitters);
        ``vflip``; ``grayscale``; ``erase``, the (x, y, width, height) RandomErasing sets in the output, or
        None; ``padding``, where a crop reaching past the image shows it: (x, y, width, height) in the
        output, zeros elsewhere, or None; ``augment``, the (op, signed magnitude) pairs the auto-augment
        policy drew, in the order applied (torchvision's ``_apply_op`` arguments), or ()."""
        w = int_arg(width, "width", minimum=1, limit=1 << 16)
        h = int_arg(height, "height", minimum=1, limit=1 << 16)
        plan = _core.plan_item(
            w, h, self._spec, *seed_and_epoch(seed, epoch), int_arg(index, "index", limit=INDEX_LIMIT)
        )
        # Not plan["height_first"]: how exact mode orders its passes, not part of the sample's parameters.
        x0, y0, x1, y1 = (float(v) for v in plan["box"])
        return {
            "box": (x0, y0, x1, y1),
            "flip": plan["flip"],
            "brightness": plan["brightness"],
            "contrast": plan["contrast"],
            "saturation": plan["saturation"],
            "hue": plan["hue"],
            "jitter_order": list(plan["jitter_order"]),
            "vflip": plan["vflip"],
            "grayscale": plan["gray"],
            "erase": plan["erase"],
            "padding": plan["padding"],
            "augment": _augments_drawn(self.auto_augment, list(plan["augments"]), *self.size[::-1]),
        }

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its parameters (the compiled native spec is not picklable): spawn-started
        # DataLoader workers receive datasets by pickling.
        fields = {k: getattr(self, k) for k in self.__slots__ if k not in ("_spec", "size")}
        return (_rebuild, (self.size, fields))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Transform is immutable; create a new one")

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, k) for k in self.__slots__ if k != "_spec")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Transform) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        parts = [f"{k}={getattr(self, k)!r}" for k in self.__slots__ if k != "_spec"]
        return f"Transform({', '.join(parts)})"

    @property
    def numpy_dtype(self) -> np.dtype:
        """The numpy dtype of the output."""
        return np.dtype(self.dtype)

    def batch_shape(self, batch_size: int) -> tuple[int, int, int, int]:
        """The output shape for ``batch_size`` images: (N, 3, height, width) or (N, height, width, 3)."""
        h, w = self.size
        return (batch_size, 3, h, w) if self.layout == "NCHW" else (batch_size, h, w, 3)


def _rebuild(size: tuple[int, int], fields: dict[str, Any]) -> Transform:
    return Transform(size, **fields)


def _check_hflip(hflip: Any) -> None:
    if isinstance(hflip, (bool, np.bool_)):
        # True reads as "flip at random" to a torchvision user, but a probability of 1 always flips.
        raise TypeError(
            f"hflip is a probability, got {hflip!r}: hflip=0.5 flips at random (torchvision's "
            "RandomHorizontalFlip()), hflip=1.0 always flips, hflip=0.0 never"
        )
    _probability(hflip, "hflip")


def _resize_into(spec: Any, resize: Any, crop: Optional[str], out_h: int, out_w: int) -> Any:
    """Checks ``resize`` against the crop and output size and sets it on ``spec``; returns its value as
    the Transform keeps it (an int for the shorter side, (h, w) for an exact size, or None)."""
    if resize is None:
        return None
    if crop == "random_resized":
        raise ValueError("resize cannot be combined with crop='random_resized', which resizes by itself")
    if crop == "random":
        raise ValueError("resize cannot be combined with crop='random' (RandomCrop crops the image as it is)")
    if as_int(resize) is not None:
        resize = as_int(resize)
        assert resize is not None
        if resize <= 0:
            raise ValueError(f"resize must be positive, got {resize!r}")
        if crop is None:
            raise ValueError(
                "resize=N (shorter side) without a crop gives images of different shapes; "
                "add crop='center' or give size only to stretch"
            )
        spec.resize, spec.resize_short = _core.ResizeMode.SHORTER_SIDE, int(resize)
        return int(resize)
    else:
        rh, rw = _hw(resize, "resize")
        if crop is None and (rh, rw) != (out_h, out_w):
            raise ValueError(f"resize={resize!r} without a crop must equal size {out_h, out_w}")
        spec.resize, spec.resize_height, spec.resize_width = _core.ResizeMode.EXACT, rh, rw
        return (rh, rw)


AUTO_AUGMENTS: tuple[str, ...] = ("trivial_augment_wide", "rand_augment", "auto_augment_imagenet")
AUTO_AUGMENTS += ("auto_augment_cifar10",)
AUTO_AUGMENTS += ("auto_augment_svhn",)


def _auto_augment_into(spec: Any, name: Any) -> Optional[str]:
    if name is None:
        return None
    if name not in AUTO_AUGMENTS:
        raise ValueError(f"auto_augment must be None or one of {AUTO_AUGMENTS}, got {name!r}")
    from ._autoaugment import policy_probabilities, table

    spec.augment_table, spec.augment_bins, spec.augment_steps = table(str(name), spec.width, spec.height)
    spec.augment_policy = policy_probabilities(str(name))
    return str(name)


def _augments_drawn(
    policy: Optional[str], indices: list[int], width: int, height: int
) -> tuple[tuple[str, float], ...]:
    """The (op name, signed magnitude) of each table entry drawn, in the order applied."""
    if policy is None or not indices:
        return ()
    from ._autoaugment import entry_values

    values = entry_values(policy, width, height)
    return tuple(values[i] for i in indices)


def _flags(antialias: Any, exact: Any, strict: Any, apply_exif_orientation: Any, fast_dct: Any) -> dict[str, bool]:
    return dict(
        antialias=bool(antialias),
        exact=bool(exact),
        strict=bool(strict),
        apply_exif_orientation=bool(apply_exif_orientation),
        fast_dct=bool(fast_dct),
    )


def _probability(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _erasing(value: Any) -> Any:
    """RandomErasing as (p, scale, ratio, value triple), from None, a probability or a dict of
    torchvision's parameters (p, scale, ratio, value)."""
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 4:  # the stored form: (p, scale, ratio, value)
        value = dict(zip(("p", "scale", "ratio", "value"), value))
    options = dict(value) if isinstance(value, dict) else {"p": value}
    unknown = set(options) - {"p", "scale", "ratio", "value"}
    if unknown:
        raise ValueError(f"erasing takes p, scale, ratio and value, got {sorted(unknown)}")
    p = _probability(options.get("p", 0.5), "erasing p")
    scale = _range(options.get("scale", (0.02, 0.33)), "erasing scale", 0.0, 1.0)
    ratio = _range(options.get("ratio", (0.3, 3.3)), "erasing ratio", 0.0, None)
    fill = options.get("value", 0.0)
    items = [float(fill)] * 3 if isinstance(fill, numbers.Real) else [float(v) for v in fill]
    if len(items) == 1:
        items *= 3
    if len(items) != 3:
        raise ValueError(f"erasing value must be one number or three, got {fill!r}")
    return (p, scale, ratio, (items[0], items[1], items[2]))


def _augment_into(
    spec: Any, crop: Any, padding: Any, vflip: Any, grayscale: Any, erasing: Any, auto_augment: Any
) -> dict[str, Any]:
    """The per-sample augmentations beyond crop, flip and jitter, set on ``spec``; returns them as the
    Transform keeps them."""
    pad = int_arg(padding, "padding", minimum=0, limit=4096)
    if pad and crop != "random":
        raise ValueError("padding applies to crop='random' (torchvision's RandomCrop(size, padding))")
    spec.crop_padding = pad
    spec.vflip = _probability(vflip, "vflip")
    spec.grayscale = _probability(grayscale, "grayscale")
    erase = _erasing(erasing)
    if erase is not None:
        spec.erase = erase[0]
        (spec.erase_scale_min, spec.erase_scale_max), (spec.erase_ratio_min, spec.erase_ratio_max) = erase[1:3]
        spec.erase_value = list(erase[3])
    augment = _auto_augment_into(spec, auto_augment)
    return dict(padding=pad, vflip=spec.vflip, grayscale=spec.grayscale, erasing=erase, auto_augment=augment)


def _max_size_into(spec: Any, max_size: Any, resize: Any) -> Optional[int]:
    """torchvision's Resize max_size: an int larger than an int (shorter-side) resize."""
    if max_size is None:
        return None
    value = int_arg(max_size, "max_size", minimum=1, limit=65536)
    if not isinstance(resize, int):
        raise ValueError("max_size applies to resize=int (the shorter side), as torchvision's Resize(int, max_size)")
    if value <= resize:
        raise ValueError(f"max_size={value} must be larger than resize={resize}, as torchvision requires")
    spec.resize_max = value
    return value


def _mean_std(dtype_name: str, mean: Any, std: Any) -> tuple[Any, Any]:
    """The normalisation as (mean, std) triples or None; uint8 output takes neither."""
    if dtype_name == "uint8":
        for name, value in (("mean", mean), ("std", std)):
            if not (value is None or _named(value, "imagenet")):
                raise ValueError(f"dtype='uint8' stores raw 0-255 pixels: {name} must be None, got {value!r}")
        mean_v, std_v = None, None
    else:
        mean_v = IMAGENET_MEAN if _named(mean, "imagenet") else None if mean is None else _triple(mean, "mean")
        std_v = IMAGENET_STD if _named(std, "imagenet") else None if std is None else _triple(std, "std")
        if std_v is not None and any(v <= 0 for v in std_v):
            raise ValueError(f"std must be positive, got {std!r}")
    return mean_v, std_v


def _check_choices(
    crop: Any, dtype: Any, layout: Any, interpolation: Any, exact: Any, fast_dct: Any
) -> tuple[str, str]:
    """The named options checked: the dtype's and the interpolation's names."""
    if crop not in _CROPS:
        raise ValueError(f"crop must be None, 'center', 'random_resized' or 'random', got {crop!r}")
    dtype_name = _dtype_name(dtype)
    if dtype_name not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)} (or the numpy/torch dtype), got {dtype!r}")
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {layout!r}")
    if exact and fast_dct:
        raise ValueError("exact=True decodes with the accurate IDCT: drop fast_dct=True")
    return dtype_name, interpolation_name(interpolation)
