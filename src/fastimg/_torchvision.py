"""Recognising torchvision's objects without importing torchvision (it cannot be installed beside every
torch build): interpolation modes, dtypes, and transform pipelines mapped to a fastimg Transform."""

from __future__ import annotations

from typing import Any

INTERPOLATIONS = ("bilinear", "bicubic", "nearest")

RECIPES = (
    "fastimg decodes and transforms natively, so it needs a fastimg.Transform. The common recipes:\n"
    "  RandomResizedCrop(224) + RandomHorizontalFlip() + ToTensor() + Normalize(ImageNet)\n"
    "      -> fastimg.Transform.imagenet_train(224)\n"
    "  Resize(256) + CenterCrop(224) + ToTensor() + Normalize(ImageNet)\n"
    "      -> fastimg.Transform.imagenet_eval(224)  (add exact=True for torchvision's own pixels)\n"
    "or convert yours: fastimg.Transform.from_torchvision(transform)"
)


def is_torchvision_transform(value: Any) -> bool:
    return type(value).__module__.startswith("torchvision.transforms")


def describe(value: Any) -> str:
    steps = getattr(value, "transforms", None)
    name = type(value).__name__
    if isinstance(steps, (list, tuple)):
        return f"{name}([{', '.join(type(s).__name__ for s in steps)}])"
    return name


def refuse_torchvision(value: Any, where: str) -> None:
    """Raises the TypeError that tells a torchvision user what to pass instead."""
    if is_torchvision_transform(value):
        raise TypeError(f"{where}: got the torchvision transform {describe(value)}. {RECIPES}")


def interpolation_name(value: Any) -> str:
    """'bilinear', 'bicubic' or 'nearest' from a string or torchvision's InterpolationMode."""
    raw = value.value if type(value).__name__ == "InterpolationMode" else value
    if isinstance(raw, str) and raw.lower() in INTERPOLATIONS:
        return raw.lower()
    raise ValueError(
        f"interpolation must be one of {', '.join(INTERPOLATIONS)} (a string or torchvision's "
        f"InterpolationMode), got {value!r}"
    )


def dtype_name(value: Any) -> str:
    """A numpy dtype name from a string, a numpy dtype/type or a torch dtype (torch.float16 -> 'float16')."""
    if type(value).__module__ == "torch" and type(value).__name__ == "dtype":
        return str(value).removeprefix("torch.")
    if isinstance(value, str):
        return value
    import numpy as np

    try:
        return np.dtype(value).name
    except TypeError:
        raise TypeError(f"dtype must be 'float32', 'float16', 'uint8' or a numpy/torch dtype, got {value!r}") from None


def _size(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return int(value[0]) if len(value) == 1 else (int(value[0]), int(value[1]))
    return int(value)


def _jitter_amount(value: Any, name: str) -> float:
    if value is None:
        return 0.0
    lo, hi = (float(v) for v in value) if isinstance(value, (list, tuple)) else (1 - value, 1 + value)
    if abs((1 - lo) - (hi - 1)) > 1e-6:
        raise ValueError(f"ColorJitter {name}={value!r}: only ranges symmetric around 1 are supported")
    return hi - 1


def transform_options(pipeline: Any) -> dict[str, Any]:
    """Transform(**options) equivalent to a torchvision Compose (v1 or v2) or a single transform; a step
    without a fastimg equivalent raises ValueError naming it."""
    steps = list(getattr(pipeline, "transforms", [pipeline]))
    opts: dict[str, Any] = {"mean": None, "std": None, "dtype": "uint8"}
    resize: Any = None
    for step in steps:
        name = type(step).__name__
        if name == "RandomResizedCrop":
            opts.update(size=_size(step.size), crop="random_resized", scale=tuple(step.scale), ratio=tuple(step.ratio))
            opts["interpolation"] = interpolation_name(step.interpolation)
        elif name == "Resize":
            if getattr(step, "max_size", None) is not None:
                raise ValueError("Resize(max_size=...) has no fastimg equivalent")
            resize = _size(step.size)
            opts["interpolation"] = interpolation_name(step.interpolation)
        elif name == "CenterCrop":
            opts.update(size=_size(step.size), crop="center")
        elif name == "RandomHorizontalFlip":
            opts["hflip"] = float(step.p)
        elif name == "ColorJitter":
            if step.hue not in (None, 0, (0, 0), [0, 0]):
                raise ValueError("ColorJitter(hue=...) has no fastimg equivalent (brightness, contrast, saturation do)")
            opts["color_jitter"] = tuple(
                _jitter_amount(getattr(step, k), k) for k in ("brightness", "contrast", "saturation")
            )
        elif name in ("ToTensor", "ConvertImageDtype") or (name == "ToDtype" and getattr(step, "scale", False)):
            opts["dtype"] = "float32"
        elif name == "Normalize":
            opts.update(mean=tuple(float(v) for v in step.mean), std=tuple(float(v) for v in step.std), dtype="float32")
        elif name in ("PILToTensor", "ToImage", "ToImageTensor", "ToPureTensor"):
            continue
        else:
            raise ValueError(f"torchvision's {name} has no fastimg equivalent: {RECIPES}")
    if resize is not None:
        if "size" not in opts:
            if isinstance(resize, int):
                raise ValueError("Resize(int) without a crop gives images of different shapes: add CenterCrop")
            opts["size"] = resize
        elif opts.get("crop") == "random_resized":
            raise ValueError("Resize before RandomResizedCrop has no fastimg equivalent")
        else:
            opts["resize"] = resize
    if "size" not in opts:
        raise ValueError(f"{describe(pipeline)} sets no output size: add Resize, CenterCrop or RandomResizedCrop")
    return opts
