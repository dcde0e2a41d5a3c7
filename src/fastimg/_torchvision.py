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


def _channels(value: Any, name: str) -> tuple[float, float, float]:
    """Normalize's mean or std as three values: one value (a number or a 1-sequence) is every channel's,
    as torchvision broadcasts it."""
    values = [float(v) for v in value] if isinstance(value, (list, tuple)) else [float(value)]
    if len(values) == 1:
        values *= 3
    if len(values) != 3:
        raise ValueError(f"Normalize {name}={value!r}: fastimg's images have 3 channels (give 1 or 3 values)")
    return (values[0], values[1], values[2])


# The geometry fastimg applies, in torchvision's step names: one crop or resize (or a resize then a centre
# crop). Anything else changes what the output shows, so it is refused rather than approximated.
_GEOMETRIES = {("RandomResizedCrop",), ("Resize",), ("CenterCrop",), ("Resize", "CenterCrop"), ("RandomCrop",)}
_FLOAT_STEPS = ("ToTensor", "ConvertImageDtype")
_ONCE: tuple[str, ...] = ("RandomHorizontalFlip", "RandomVerticalFlip", "ColorJitter", "Grayscale")
_ONCE += ("RandomGrayscale", "RandomErasing", "TrivialAugmentWide", "RandAugment", "AutoAugment")
_POLICIES = {"TrivialAugmentWide": "trivial_augment_wide", "RandAugment": "rand_augment"}
_POLICIES["AutoAugment"] = "auto_augment_imagenet"
_IMAGE_NOOPS = ("PILToTensor", "ToImage", "ToImageTensor")


class _Conversion:
    """The steps of a Compose in order, against the order fastimg works in: geometry, then flip and colour
    jitter (on the uint8 image), then the conversion to float, then Normalize. A step that torchvision would
    apply in an order fastimg cannot reproduce exactly is refused, naming it."""

    def __init__(self) -> None:
        self.opts: dict[str, Any] = {"mean": None, "std": None, "dtype": "uint8"}
        self.geometry: list[str] = []
        self.resize: Any = None
        self.stage = "image"  # image -> float (ToTensor) -> normalized
        self.tensor = False  # after ToImage/PILToTensor: torchvision's tensor kernels, not Pillow's
        self.seen: set[str] = set()

    def refuse(self, name: str, why: str) -> None:
        raise ValueError(f"torchvision's {name} {why}: fastimg cannot represent this Compose exactly")

    def geometry_step(self, step: Any, name: str) -> None:
        if self.stage != "image":
            self.refuse(name, "after ToTensor/Normalize (fastimg crops and resizes the uint8 image first)")
        if "ColorJitter" in self.seen:
            self.refuse(name, "after ColorJitter (contrast uses the mean of the image it is given)")
        flips = {"RandomHorizontalFlip", "RandomVerticalFlip"} & self.seen
        if flips:  # the box would be drawn on the flipped image: other pixels for the same parameters
            self.refuse(name, f"after {min(flips)} (fastimg flips the cropped image: put the flip after {name})")
        if {"Grayscale", "RandomGrayscale"} & self.seen:
            self.refuse(name, "after Grayscale (fastimg turns the image grey after cropping it)")
        if set(_POLICIES) & self.seen:
            self.refuse(name, "after the auto-augment policy (fastimg augments the cropped image)")
        shape = (*self.geometry, name)
        if shape not in _GEOMETRIES:
            self.refuse(
                name,
                f"after {self.geometry[-1]} (fastimg does RandomResizedCrop, Resize, CenterCrop or "
                "Resize then CenterCrop)",
            )
        self.geometry.append(name)
        if getattr(step, "antialias", True) is False and self.tensor:  # PIL images are always antialiased
            self.opts["antialias"] = False
        if name == "RandomResizedCrop":
            self.opts.update(size=_size(step.size), crop="random_resized", scale=tuple(step.scale))
            self.opts.update(ratio=tuple(step.ratio), interpolation=interpolation_name(step.interpolation))
        elif name == "Resize":
            self.resize = _size(step.size)
            if getattr(step, "max_size", None) is not None:
                self.opts["max_size"] = int(step.max_size)
            self.opts["interpolation"] = interpolation_name(step.interpolation)
        elif name == "RandomCrop":
            self.random_crop(step)
        else:
            self.opts.update(size=_size(step.size), crop="center")

    def random_crop(self, step: Any) -> None:
        padding = step.padding if step.padding is not None else 0
        if isinstance(padding, (list, tuple)):
            if len(set(padding)) != 1:
                self.refuse("RandomCrop", "with different padding per side")
            padding = padding[0]
        if getattr(step, "pad_if_needed", False):
            self.refuse("RandomCrop", "with pad_if_needed")
        if getattr(step, "fill", 0) != 0 or getattr(step, "padding_mode", "constant") != "constant":
            self.refuse("RandomCrop", "padding other than zeros")
        self.opts.update(size=_size(step.size), crop="random", padding=int(padding))

    def erasing(self, step: Any) -> None:
        if self.stage == "image":
            self.refuse("RandomErasing", "before ToTensor (torchvision erases tensors)")
        if step.value in ("random", None) or isinstance(step.value, str):
            self.refuse("RandomErasing", "with value='random'")
        value = [float(v) for v in step.value] if isinstance(step.value, (list, tuple)) else [float(step.value)]
        self.pending_erase = {"p": float(step.p), "scale": tuple(step.scale), "ratio": tuple(step.ratio)}
        self.pending_erase["value"] = value * 3 if len(value) == 1 else value
        self.erase_before_normalize = self.stage == "float"

    def step(self, step: Any) -> None:
        name = type(step).__name__
        if name in ("RandomResizedCrop", "Resize", "CenterCrop", "RandomCrop"):
            self.geometry_step(step, name)
        elif name in _ONCE and name in self.seen:
            self.refuse(name, "twice")
        elif (
            name in ("RandomHorizontalFlip", "RandomVerticalFlip") and {"TrivialAugmentWide", "RandAugment"} & self.seen
        ):
            self.refuse(name, "after the auto-augment policy (fastimg flips before augmenting)")
        elif name == "RandomHorizontalFlip":
            self.opts["hflip"] = float(step.p)
        elif name == "RandomVerticalFlip":
            self.opts["vflip"] = float(step.p)
        elif name in ("Grayscale", "RandomGrayscale"):
            self.grayscale(step, name)
        elif name == "RandomErasing":
            self.erasing(step)
        elif name in _POLICIES:
            self.auto_augment(step, name)
        elif name == "ColorJitter":
            if self.stage != "image":
                self.refuse(name, "after ToTensor (fastimg jitters the uint8 image, as torchvision's PIL path does)")
            if {"Grayscale", "RandomGrayscale"} & self.seen:
                self.refuse(name, "after Grayscale (fastimg turns the image grey after the jitter)")
            amounts = [_jitter_amount(getattr(step, k), k) for k in ("brightness", "contrast", "saturation")]
            hue = step.hue if step.hue is not None else (0.0, 0.0)
            lo, hi = (float(v) for v in hue) if isinstance(hue, (list, tuple)) else (-float(hue), float(hue))
            if abs(lo + hi) > 1e-9:
                self.refuse(name, "with a hue range not symmetric around 0")
            self.opts["color_jitter"] = (*amounts, hi) if hi else tuple(amounts)
        elif name == "ToDtype":
            self.to_dtype(step)
        elif name in _FLOAT_STEPS:
            if self.stage != "image":
                self.refuse(name, f"after {'Normalize' if self.stage == 'normalized' else 'ToTensor'}")
            self.stage, self.opts["dtype"] = "float", "float32"
        elif name == "Normalize":
            if self.stage != "float":
                self.refuse(
                    name, "before ToTensor (torchvision raises TypeError on it)" if self.stage == "image" else "twice"
                )
            self.stage = "normalized"
            self.opts.update(mean=_channels(step.mean, "mean"), std=_channels(step.std, "std"))
        elif name == "ToPureTensor":
            pass  # unwraps a tv_tensor: nothing to do at any stage
        elif name in _IMAGE_NOOPS:
            if self.stage != "image":
                self.refuse(name, "after ToTensor")
            self.tensor = True
        else:
            raise ValueError(f"torchvision's {name} has no fastimg equivalent: {RECIPES}")
        self.seen.add(name)

    def to_dtype(self, step: Any) -> None:
        """v2.ToDtype: uint8 keeps the image as it is; a float dtype with scale=True is ToTensor."""
        target = str(getattr(step, "dtype", "")).removeprefix("torch.")
        if target == "uint8":
            if self.stage != "image":
                self.refuse("ToDtype", "to uint8 after a float conversion")
            return
        if target not in ("float32", "float16", "float64") or not getattr(step, "scale", False):
            self.refuse(
                "ToDtype",
                f"to {target or 'several dtypes'} without scale=True (fastimg's float output is "
                "the image scaled to 0..1: ToDtype(torch.float32, scale=True))",
            )
        if self.stage != "image":
            self.refuse("ToDtype", f"after {'Normalize' if self.stage == 'normalized' else 'ToTensor'}")
        self.stage = "float"
        self.opts["dtype"] = "float16" if target == "float16" else "float32"

    def auto_augment(self, step: Any, name: str) -> None:
        if self.stage != "image":
            self.refuse(name, "after ToTensor")
        if self.tensor:  # torchvision's tensor kernels for these ops differ from its PIL path by up to 227 levels
            self.refuse(name, "after ToImage/PILToTensor (fastimg reproduces torchvision's PIL path: move it after)")
        if {"ColorJitter", "Grayscale", "RandomGrayscale"} & self.seen:
            self.refuse(name, "after ColorJitter or Grayscale (fastimg augments before them)")
        if set(_POLICIES) & self.seen:
            self.refuse(name, "after another auto-augment policy")
        mode = getattr(step, "interpolation", None)
        defaults = getattr(step, "num_magnitude_bins", 31) == 31 and getattr(mode, "value", mode) == "nearest"
        defaults = defaults and step.fill is None
        if name == "RandAugment":
            defaults = defaults and step.num_ops == 2 and step.magnitude == 9
        if name == "AutoAugment":
            defaults = getattr(mode, "value", mode) == "nearest" and step.fill is None
        if not defaults:
            self.refuse(name, f"other than {name}() (its default ops, bins, nearest, no fill)")
        self.opts["auto_augment"] = _POLICIES[name]
        if name == "AutoAugment":
            self.opts["auto_augment"] = "auto_augment_" + str(getattr(step.policy, "name", step.policy)).lower()

    def grayscale(self, step: Any, name: str) -> None:
        if self.stage != "image":
            self.refuse(name, "after ToTensor (fastimg turns the uint8 image grey, as torchvision's PIL path does)")
        if name == "Grayscale" and getattr(step, "num_output_channels", 1) != 3:
            self.refuse(name, "with one output channel (fastimg's images have 3: Grayscale(num_output_channels=3))")
        self.opts["grayscale"] = 1.0 if name == "Grayscale" else float(step.p)

    def finish(self, pipeline: Any) -> dict[str, Any]:
        opts = self.opts
        erase = getattr(self, "pending_erase", None)
        if erase is not None:
            if getattr(self, "erase_before_normalize", False) and opts["mean"] is not None:
                # Erased before Normalize: the value is normalised with the rest.
                erase["value"] = [(v - m) / d for v, m, d in zip(erase["value"], opts["mean"], opts["std"])]
            opts["erasing"] = erase
        if self.resize is not None:
            if "size" in opts:
                opts["resize"] = self.resize
            elif isinstance(self.resize, int):
                raise ValueError("Resize(int) without a crop gives images of different shapes: add CenterCrop")
            else:
                opts["size"] = self.resize
        if "size" not in opts:
            raise ValueError(f"{describe(pipeline)} sets no output size: add Resize, CenterCrop or RandomResizedCrop")
        return opts


def transform_options(pipeline: Any) -> dict[str, Any]:
    """Transform(**options) that does what a torchvision Compose (v1 or v2) or single transform does, in
    the same order; a step without a fastimg equivalent, or in an order fastimg cannot reproduce, raises
    ValueError naming it."""
    conversion = _Conversion()
    for step in _flat(pipeline):
        conversion.step(step)
    return conversion.finish(pipeline)


def _flat(pipeline: Any) -> list[Any]:
    """The steps of a Compose, nested Composes spliced in."""
    if type(pipeline).__name__ != "Compose":
        return [pipeline]
    return [step for inner in pipeline.transforms for step in _flat(inner)]
