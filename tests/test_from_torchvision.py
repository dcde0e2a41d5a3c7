"""Transform.from_torchvision against torchvision 0.28 itself (#25): every Compose it accepts gives
torchvision's output (exact=True: the same pixels; random steps compared through Transform.params, the
box and flip each sample drew), and every Compose whose order or steps it cannot reproduce is refused
naming the step, never converted to something else."""

from __future__ import annotations

import io

import pytest
import torch
from imaging import encode, photo_like
from PIL import Image

import fastimg

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@pytest.fixture(scope="module")
def images():
    shapes = [(375, 500), (333, 500), (500, 353), (97, 131), (240, 240)]
    return [encode(photo_like(h, w, seed=k), quality=90) for k, (h, w) in enumerate(shapes)]


def _pil(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _fastimg(transform: fastimg.Transform, images, epoch=0) -> torch.Tensor:
    return torch.from_numpy(fastimg.load_batch(images, transform, seed=3, epoch=epoch).images)


def _composes(tv):
    """(name, Compose) of the deterministic recipes, in v1 and v2 spellings."""
    import torchvision.transforms.v2 as v2

    T = tv.transforms
    out = {
        "eval": T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)]),
        "eval-v2": v2.Compose(
            [
                v2.Resize(256),
                v2.CenterCrop(224),
                v2.ToImage(),
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize(MEAN, STD),
            ]
        ),
        "stretch-uint8": T.Compose([T.Resize((64, 80)), T.PILToTensor()]),
        "centercrop": T.Compose([T.CenterCrop(90), T.ToTensor()]),
        "one-value-normalize": T.Compose([T.Resize(40), T.CenterCrop(32), T.ToTensor(), T.Normalize((0.5,), (0.5,))]),
        "bicubic": T.Compose(
            [T.Resize(100, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(96), T.ToTensor()]
        ),
    }
    out["flip-last"] = T.Compose([T.Resize((50, 60)), T.ToTensor(), T.RandomHorizontalFlip(p=1.0)])
    # a crop larger than the image pads with zeros; Resize's max_size caps the longer side
    out["padded-crop"] = T.Compose([T.CenterCrop((150, 420)), T.ToTensor(), T.Normalize(MEAN, STD)])
    out["small-resize-pads"] = T.Compose([T.Resize(40), T.CenterCrop(64), T.ToTensor()])
    out["max-size"] = T.Compose([T.Resize(120, max_size=150), T.CenterCrop(100), T.ToTensor()])
    out["max-size-pads"] = T.Compose([T.Resize(100, max_size=120), T.CenterCrop(110), T.PILToTensor()])
    return out


def test_deterministic_conversions_give_torchvisions_output(torchvision_ref, images):
    for name, compose in _composes(torchvision_ref).items():
        ours = _fastimg(fastimg.Transform.from_torchvision(compose, exact=True), images)
        theirs = torch.stack([compose(_pil(d)) for d in images])
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, name
        if ours.dtype == torch.uint8:
            assert torch.equal(ours, theirs), name
        else:
            torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0, msg=name)


def test_geometry_on_tensors_is_within_a_level(torchvision_ref, images):
    """After ToImage, v2 resizes with torch's tensor kernels, not Pillow's: exact=True follows the PIL path,
    so the two differ by rounding (at most one level here)."""
    import torchvision.transforms.v2 as v2

    compose = v2.Compose([v2.ToImage(), v2.Resize(256), v2.CenterCrop(224), v2.ToDtype(torch.float32, scale=True)])
    ours = _fastimg(fastimg.Transform.from_torchvision(compose, exact=True), images)
    theirs = torch.stack([compose(_pil(d)) for d in images])
    assert (ours - theirs).abs().max() <= 1.01 / 255


def _by_params(tv, transform, data, index, epoch, then, interpolation):
    """torchvision's functional ops on the box and flip fastimg drew for the sample, then `then` (the
    Compose's tensor steps)."""
    F = tv.transforms.functional
    img = _pil(data)
    p = transform.params(img.width, img.height, index, seed=3, epoch=epoch)
    x0, y0, x1, y1 = (int(v) for v in p["box"])
    out = F.resized_crop(img, y0, x0, y1 - y0, x1 - x0, list(transform.size), interpolation)
    if p["flip"]:
        out = F.hflip(out)
    return then(out)


def test_random_resized_crop_recipes_follow_the_drawn_box_and_flip(torchvision_ref, images):
    T = torchvision_ref.transforms
    crop, flip = T.RandomResizedCrop(64, scale=(0.2, 1.0)), T.RandomHorizontalFlip()
    compose = T.Compose([crop, flip, T.ToTensor(), T.Normalize(MEAN, STD)])
    transform = fastimg.Transform.from_torchvision(compose, exact=True)
    tail = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    for epoch in range(3):
        ours = _fastimg(transform, images, epoch)
        theirs = torch.stack(
            [
                _by_params(torchvision_ref, transform, d, i, epoch, tail, crop.interpolation)
                for i, d in enumerate(images)
            ]
        )
        torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)


def refusals(tv):
    T = tv.transforms
    n = T.Normalize(MEAN, STD)
    return {
        # the two silent mis-conversions
        "CenterCrop": T.Compose([T.RandomResizedCrop(256), T.CenterCrop(224), T.ToTensor()]),
        "Resize": T.Compose([T.CenterCrop(224), T.Resize(256), T.ToTensor()]),
        "Normalize": T.Compose([T.Resize(256), T.CenterCrop(224), n, T.ToTensor()]),
        # orders fastimg cannot reproduce exactly
        "RandomResizedCrop": T.Compose([T.ColorJitter(0.4, 0.4, 0.4), T.RandomResizedCrop(224), T.ToTensor()]),
        "CenterCrop ": T.Compose([T.Resize(256), T.RandomHorizontalFlip(), T.CenterCrop(224), T.ToTensor()]),
        "ColorJitter": T.Compose([T.RandomResizedCrop(224), T.ToTensor(), T.ColorJitter(0.4)]),
        "Resize ": T.Compose([T.RandomResizedCrop(224), T.Resize(200), T.ToTensor()]),
        "RandomHorizontalFlip": T.Compose(
            [T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.RandomHorizontalFlip()]
        ),
        "ToTensor": T.Compose([T.Resize((32, 32)), T.ToTensor(), T.ToTensor()]),
        # the ops run on tensors after ToImage: torchvision's tensor kernels (new-user trial: 227 levels off)
        "TrivialAugmentWide": T.Compose([T.Resize((40, 40)), T.PILToTensor(), T.TrivialAugmentWide()]),
        "AutoAugment": T.Compose([T.Resize((40, 40)), T.AutoAugment(fill=[128, 128, 128])]),
        # the crop would be drawn on the flipped image (new-user trial: 221 levels off on replay)
        "RandomResizedCrop ": T.Compose([T.RandomHorizontalFlip(), T.RandomResizedCrop(32), T.ToTensor()]),
    }


def test_orders_it_cannot_reproduce_are_refused_naming_the_step(torchvision_ref):
    for step, compose in refusals(torchvision_ref).items():
        with pytest.raises(ValueError, match=f"torchvision's {step.strip()}"):
            fastimg.Transform.from_torchvision(compose)


def test_v2_dtype_steps_and_tensor_antialias(torchvision_ref, images):
    """ToDtype(uint8) keeps uint8 (new-user trial: it came out as float 0..1); ToDtype without scale is refused
    with the reason; antialias=False after ToImage is kept (PIL images ignore it)."""
    import torchvision.transforms.v2 as v2

    keep = v2.Compose([v2.Resize((40, 40)), v2.ToImage(), v2.ToDtype(torch.uint8, scale=True), v2.ToPureTensor()])
    ours = _fastimg(fastimg.Transform.from_torchvision(keep, exact=True), images)
    assert ours.dtype == torch.uint8 and torch.equal(ours, torch.stack([keep(_pil(d)) for d in images]))
    with pytest.raises(ValueError, match="without scale=True"):
        fastimg.Transform.from_torchvision(v2.Compose([v2.Resize((8, 8)), v2.ToImage(), v2.ToDtype(torch.float32)]))
    aliased = v2.Compose([v2.ToImage(), v2.Resize((40, 40), antialias=False), v2.ToDtype(torch.float32, scale=True)])
    assert fastimg.Transform.from_torchvision(aliased).antialias is False
    pil = v2.Compose([v2.Resize((40, 40), antialias=False), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    assert fastimg.Transform.from_torchvision(pil).antialias is True


def test_torchvision_itself_rejects_normalize_before_totensor(torchvision_ref, images):
    compose = refusals(torchvision_ref)["Normalize"]
    with pytest.raises(TypeError):
        compose(_pil(images[0]))


def _jittered(tv, img, p):
    """torchvision's ColorJitter on a PIL image with the factors and order fastimg drew."""
    F = tv.transforms.functional
    steps = {0: ("brightness", F.adjust_brightness), 1: ("contrast", F.adjust_contrast)}
    steps[2] = ("saturation", F.adjust_saturation)
    steps[3] = ("hue", F.adjust_hue)
    for k in p["jitter_order"]:
        name, fn = steps[k]
        img = fn(img, p[name])
    return img


@pytest.mark.parametrize("hue", [0.0, 0.1, 0.5])
def test_exact_color_jitter_is_torchvisions_pil_arithmetic(torchvision_ref, images, hue):
    T, F = torchvision_ref.transforms, torchvision_ref.transforms.functional
    compose = T.Compose([T.Resize(72), T.CenterCrop(64), T.ColorJitter(0.4, 0.4, 0.4, hue), T.ToTensor()])
    transform = fastimg.Transform.from_torchvision(compose, exact=True)
    for epoch in range(4):
        ours = _fastimg(transform, images, epoch)
        theirs = []
        for i, d in enumerate(images):
            img = _pil(d)
            p = transform.params(img.width, img.height, i, seed=3, epoch=epoch)
            theirs.append(F.to_tensor(_jittered(torchvision_ref, F.center_crop(F.resize(img, 72), 64), p)))
        torch.testing.assert_close(ours, torch.stack(theirs), atol=1e-6, rtol=0)


def test_image_folder_takes_torchvisions_positional_arguments(torchvision_ref, image_folder):
    """ImageFolder(root, transform, target_transform, loader, is_valid_file, allow_empty), as torchvision's."""
    import inspect

    from torchvision.datasets import ImageFolder as TorchvisionImageFolder

    theirs = list(inspect.signature(TorchvisionImageFolder).parameters)
    ours = list(inspect.signature(fastimg.ImageFolder).parameters)
    assert ours[: len(theirs)] == theirs
    keep = lambda path: path.endswith(("00.jpg", "01.jpg"))  # noqa: E731
    ds = fastimg.ImageFolder(image_folder, fastimg.Transform(16), lambda y: y + 10, None, keep)
    reference = TorchvisionImageFolder(str(image_folder), None, lambda y: y + 10, is_valid_file=keep)
    assert [ds[i][1] for i in range(len(ds))] == [reference[i][1] for i in range(len(reference))]
    assert ds.samples == reference.samples and len(ds) == 6


def _cifar_reference(tv, transform, data, index, epoch, tail):
    F = tv.transforms.functional
    img = _pil(data)
    p = transform.params(img.width, img.height, index, seed=3, epoch=epoch)
    pad = transform.padding
    x0, y0 = int(p["box"][0]), int(p["box"][1])
    shown = p["padding"] or (0, 0, 0, 0)
    top, left = y0 - shown[1] + pad, x0 - shown[0] + pad
    out = F.crop(F.pad(img, pad), top, left, *transform.size)
    if p["flip"]:
        out = F.hflip(out)
    return tail(out)


def test_cifar_random_crop_with_padding_is_torchvisions(torchvision_ref):
    T = torchvision_ref.transforms
    cifar = [encode(photo_like(32, 32, seed=k), quality=95) for k in range(12)]
    tail = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    compose = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), tail])
    transform = fastimg.Transform.from_torchvision(compose, exact=True)
    assert transform.crop == "random" and transform.padding == 4
    for epoch in range(3):
        ours = _fastimg(transform, cifar, epoch)
        theirs = torch.stack(
            [_cifar_reference(torchvision_ref, transform, d, i, epoch, tail) for i, d in enumerate(cifar)]
        )
        torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)


def test_vertical_flip_grayscale_and_erasing_are_torchvisions(torchvision_ref, images):
    T, F = torchvision_ref.transforms, torchvision_ref.transforms.functional
    compose = T.Compose(
        [
            T.Resize(48),
            T.CenterCrop(40),
            T.RandomVerticalFlip(),
            T.ColorJitter(0.3, 0.3, 0.3),
            T.RandomGrayscale(0.5),
            T.ToTensor(),
            T.Normalize(MEAN, STD),
            T.RandomErasing(p=0.7, value=0.25),
        ]
    )
    transform = fastimg.Transform.from_torchvision(compose, exact=True)
    seen = {"vflip": 0, "grayscale": 0, "erase": 0}
    for epoch in range(6):
        ours = _fastimg(transform, images, epoch)
        for i, d in enumerate(images):
            img = _pil(d)
            p = transform.params(img.width, img.height, i, seed=3, epoch=epoch)
            out = F.center_crop(F.resize(img, 48), 40)
            out = F.vflip(out) if p["vflip"] else out
            out = _jittered(torchvision_ref, out, p)
            out = F.rgb_to_grayscale(out, 3) if p["grayscale"] else out
            t = F.normalize(F.to_tensor(out), MEAN, STD)
            if p["erase"] is not None:
                x, y, w, h = p["erase"]
                t = F.erase(t, y, x, h, w, torch.tensor(0.25))
            torch.testing.assert_close(ours[i], t, atol=1e-6, rtol=0)
            seen = {k: v + bool(p[k]) for k, v in seen.items()}
    assert all(v > 3 for v in seen.values()), seen


def test_batches_feed_torchvisions_mixup_and_cutmix_unchanged(torchvision_ref, image_folder):
    """Batch-level mixing stays with torchvision v2 on the output batch (README): a Loader's (images, labels)
    go into MixUp/CutMix as they come."""
    import torchvision.transforms.v2 as v2

    loader = fastimg.Loader(fastimg.ImageFolder(image_folder, fastimg.Transform.imagenet_train(32)), 8, seed=0)
    mix = v2.RandomChoice([v2.MixUp(num_classes=3), v2.CutMix(num_classes=3)])
    for images, labels in loader:
        mixed, soft = mix(images, labels)
        assert mixed.shape == images.shape and mixed.dtype == torch.float32
        assert soft.shape == (len(labels), 3)
        torch.testing.assert_close(soft.sum(dim=1), torch.ones(len(labels)))


def test_default_mode_hue_is_torchvisions_tensor_hue(torchvision_ref, images):
    """Without exact, hue follows torchvision's float-tensor path (within a level: the default pipeline's other
    steps round differently from Pillow's)."""
    F = torchvision_ref.transforms.functional
    transform = fastimg.Transform(64, resize=72, crop="center", color_jitter=(0, 0, 0, 0.5), mean=None, std=None)
    plain = _fastimg(transform.replace(color_jitter=None), images)
    ours = _fastimg(transform, images)
    for i, d in enumerate(images):
        img = _pil(d)
        p = transform.params(img.width, img.height, i, seed=3)
        assert p["hue"] != 0
        expected = F.adjust_hue(plain[i], p["hue"])
        assert (ours[i] - expected).abs().max() <= 1.01 / 255


def test_trivial_augment_wide_is_torchvisions_pil_path(torchvision_ref, images):
    """Every op of TrivialAugmentWide (and both quarter turns, which Pillow does by transposing) replayed with
    torchvision's own _apply_op on the op and magnitude Transform.params reports (exact=True: the same
    bytes), after the crop and flip it follows."""
    from torchvision.transforms.autoaugment import _apply_op

    T, F = torchvision_ref.transforms, torchvision_ref.transforms.functional
    crop = T.RandomResizedCrop(48, scale=(0.3, 1.0))
    compose = T.Compose([crop, T.RandomHorizontalFlip(), T.TrivialAugmentWide(), T.ToTensor()])
    transform = fastimg.Transform.from_torchvision(compose, exact=True)
    assert transform.auto_augment == "trivial_augment_wide"
    data = images[0]
    img = _pil(data)
    # Sample indices whose draws cover every op, several magnitudes each and both quarter turns.
    wanted: dict[tuple[str, float], int] = {}
    for index in range(20000):
        ((name, magnitude),) = transform.params(img.width, img.height, index, seed=3)["augment"]
        key = (name, magnitude) if name == "Rotate" and abs(magnitude) == 90 else (name, round(magnitude, 1))
        if len([k for k in wanted if k[0] == name]) < 4 or (key[0] == "Rotate" and abs(key[1]) == 90):
            wanted.setdefault(key, index)
    assert {k[0] for k in wanted} >= set(_TA_OPS) and ("Rotate", 90.0) in wanted and ("Rotate", -90.0) in wanted
    indices = sorted(wanted.values())
    ours = torch.from_numpy(fastimg.load_batch([data] * len(indices), transform, seed=3, indices=indices).images)
    for k, index in enumerate(indices):
        p = transform.params(img.width, img.height, index, seed=3)
        x0, y0, x1, y1 = (int(v) for v in p["box"])
        out = F.resized_crop(img, y0, x0, y1 - y0, x1 - x0, [48, 48], crop.interpolation)
        out = F.hflip(out) if p["flip"] else out
        ((name, magnitude),) = p["augment"]
        out = _apply_op(out, name, magnitude, interpolation=T.InterpolationMode.NEAREST, fill=None)
        diff = (ours[k] - F.to_tensor(out)).abs().max().item()
        assert diff <= 1e-6, (name, magnitude, diff)


@pytest.mark.parametrize("size", [(48, 52), (47, 53)])
def test_rand_augment_is_torchvisions_pil_path(torchvision_ref, images, size):
    """RandAugment(): two ops at magnitude 9, applied in turn, replayed with torchvision's _apply_op. 47x53
    outputs leave a remainder after every four- and sixteen-value SIMD step of the ops."""
    from torchvision.transforms.autoaugment import _apply_op

    T, F = torchvision_ref.transforms, torchvision_ref.transforms.functional
    compose = T.Compose([T.Resize(56), T.CenterCrop(size), T.RandAugment(), T.ToTensor()])
    transform = fastimg.Transform.from_torchvision(compose, exact=True)
    assert transform.auto_augment == "rand_augment"
    seen = set()
    for epoch in range(8):
        ours = _fastimg(transform, images, epoch)
        for i, d in enumerate(images):
            img = _pil(d)
            steps = transform.params(img.width, img.height, i, seed=3, epoch=epoch)["augment"]
            assert len(steps) == 2
            out = F.center_crop(F.resize(img, 56), list(size))
            for name, magnitude in steps:
                out = _apply_op(out, name, magnitude, interpolation=T.InterpolationMode.NEAREST, fill=None)
                seen.add(name)
            diff = (ours[i] - F.to_tensor(out)).abs().max().item()
            assert diff <= 1e-6, (steps, diff)
    assert len(seen) >= 12, seen


_TA_OPS = ("Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color")
_TA_OPS += ("Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize")


@pytest.mark.parametrize("policy", ["IMAGENET", "CIFAR10", "SVHN"])
def test_auto_augment_policies_are_torchvisions_pil_path(torchvision_ref, images, policy):
    """AutoAugment(policy): a sub-policy, each step with its probability, replayed with
    torchvision's _apply_op on what Transform.params reports (Invert included)."""
    from torchvision.transforms.autoaugment import _apply_op

    T, F = torchvision_ref.transforms, torchvision_ref.transforms.functional
    compose = T.Compose([T.Resize(56), T.CenterCrop(48), T.AutoAugment(T.AutoAugmentPolicy[policy]), T.ToTensor()])
    transform = fastimg.Transform.from_torchvision(compose, exact=True)
    assert transform.auto_augment == "auto_augment_" + policy.lower()
    seen, counts = set(), set()
    for epoch in range(24):
        ours = _fastimg(transform, images, epoch)
        for i, d in enumerate(images):
            img = _pil(d)
            steps = transform.params(img.width, img.height, i, seed=3, epoch=epoch)["augment"]
            out = F.center_crop(F.resize(img, 56), 48)
            for name, magnitude in steps:
                out = _apply_op(out, name, magnitude, interpolation=T.InterpolationMode.NEAREST, fill=None)
                seen.add(name)
            counts.add(len(steps))
            diff = (ours[i] - F.to_tensor(out)).abs().max().item()
            assert diff <= 1e-6, (steps, diff)
    assert counts == {0, 1, 2} and len(seen) >= 5, (counts, seen)
