"""A torchvision user's drop-in: exact mode against torchvision's PIL path, the arguments torchvision
users write (stand-ins for torchvision's classes: it cannot be installed beside this torch), and the
errors that point them to the fastimg spelling."""

import enum
import io

import numpy as np
import pytest
import torch
from imaging import encode, photo_like
from PIL import Image
from torch.utils.data import DataLoader

import fastimg
from fastimg import ImageFolder, Loader, Transform

# -- torchvision's PIL path, built from Pillow (the reference) -----------------------------------------


def torchvision_eval(data, size=224, resize=256, resample=Image.BILINEAR):
    """Resize(resize) + CenterCrop(size) as torchvision computes them on a PIL image, uint8 HWC."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    ow, oh = (resize, int(resize * h / w)) if w <= h else (int(resize * w / h), resize)
    im = im.resize((ow, oh), resample)
    top, left = int(round((oh - size) / 2.0)), int(round((ow - size) / 2.0))
    return np.asarray(im.crop((left, top, left + size, top + size)))


def unnormalised(images, transform):
    """Back to 0-255 units: output * std * 255 + mean * 255."""
    mean = np.asarray(transform.mean or (0, 0, 0)).reshape(1, 3, 1, 1)
    std = np.asarray(transform.std or (1, 1, 1)).reshape(1, 3, 1, 1)
    return ((images * std + mean) * 255).transpose(0, 2, 3, 1)


LARGE = [(768, 1024), (600, 513), (1200, 900), (512, 700)]  # short side >= 512: DCT scaling would apply


@pytest.fixture(scope="module")
def large_jpegs():
    return [encode(photo_like(h, w, seed=h + w), quality=92) for h, w in LARGE]


@pytest.mark.parametrize(("interpolation", "resample"), [("bilinear", Image.BILINEAR), ("bicubic", Image.BICUBIC)])
def test_exact_mode_is_torchvisions_pixels(large_jpegs, interpolation, resample):
    exact = Transform.imagenet_eval(224, exact=True, interpolation=interpolation)
    default = Transform.imagenet_eval(224, interpolation=interpolation)
    got = unnormalised(fastimg.load_batch(large_jpegs, exact).images, exact)
    fast = unnormalised(fastimg.load_batch(large_jpegs, default).images, default)
    worst_default = 0.0
    for k, data in enumerate(large_jpegs):
        ref = torchvision_eval(data, resample=resample).astype(np.float64)
        # the same levels, up to float32 slack of the normalised values
        assert np.abs(got[k] - ref).max() <= 1e-3, LARGE[k]
        worst_default = max(worst_default, np.abs(fast[k] - ref).max())
    assert worst_default > 1.5  # the switch matters: the default decodes these at a reduced scale


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_exact_random_resized_crop_is_torchvisions_crop_then_resize(large_jpegs, interpolation):
    """torchvision crops the box first, then resizes it (the filter never reads outside the box)."""
    resample = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[interpolation]
    t = Transform(96, crop="random_resized", exact=True, mean=None, std=None, interpolation=interpolation)
    for k, data in enumerate(large_jpegs[:2]):
        h, w = LARGE[k]
        pil = Image.open(io.BytesIO(data)).convert("RGB")
        for index in range(3):
            got = fastimg.load_batch([data], t, seed=5, indices=[index]).images[0].transpose(1, 2, 0) * 255
            box = t.params(w, h, index, seed=5)["box"]
            ref = np.asarray(pil.crop(tuple(int(round(v)) for v in box)).resize((96, 96), resample))
            assert np.abs(got - ref).max() <= 1e-3


# (stored width, height): tall ones make Pillow 13 resize the height first for a 96x96 stretch (the height
# shrinks by more than twice the width's pixels), wide and mildly tall ones keep its usual order.
PASS_ORDER_SHAPES = [(150, 230), (140, 260), (190, 230), (230, 150), (60, 200), (120, 121)]


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_exact_mode_is_pillow_exact_whichever_pass_pillow_runs_first(interpolation):
    """Pillow 13 runs its vertical pass first when the height shrinks much more than the width; the passes'
    uint8 rounding then falls differently (a fifth of the values off by one in the horizontal-first order)."""
    resample = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[interpolation]
    common = dict(mean=None, std=None, dtype="uint8", layout="NHWC", interpolation=interpolation, exact=True)
    stretch, rrc = Transform(96, **common), Transform(96, crop="random_resized", **common)
    orders = set()
    for w, h in PASS_ORDER_SHAPES:
        data = encode(photo_like(h, w, seed=w * h), "PNG")
        pil = Image.open(io.BytesIO(data)).convert("RGB")
        orders.add(fastimg._core.plan_item(w, h, stretch._spec, 0, 0, 0)["height_first"])
        got = fastimg.load_batch([data], stretch).images[0]
        np.testing.assert_array_equal(got, np.asarray(pil.resize((96, 96), resample)), err_msg=f"{w}x{h}")
        for index in range(4):
            plan = fastimg._core.plan_item(w, h, rrc._spec, 3, 0, index)
            orders.add(plan["height_first"])
            assert rrc.params(w, h, index, seed=3)["box"] == plan["box"]
            ref = pil.crop(tuple(int(round(v)) for v in plan["box"])).resize((96, 96), resample)
            got = fastimg.load_batch([data], rrc, seed=3, indices=[index]).images[0]
            np.testing.assert_array_equal(got, np.asarray(ref), err_msg=f"{w}x{h} crop {plan['box']}")
    assert orders == {True, False}  # both orders were exercised


def test_exact_eval_and_exif_rotation_follow_pillows_pass_order():
    """Resize(256) + CenterCrop(224) of a tall image (its resize shrinks the height first), and the same file
    stored sideways with EXIF orientation 6: Pillow decides the order on the displayed image."""
    img = photo_like(900, 300, seed=8)  # 300 wide, 900 tall: Resize(256) gives 256x768
    upright = encode(img, "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait: rot90 undone by a quarter turn clockwise
    rotated = encode(np.ascontiguousarray(np.rot90(img)), quality=95, exif=exif.tobytes())
    t = Transform.imagenet_eval(224, exact=True, mean=None, std=None, dtype="uint8", layout="NHWC")
    assert fastimg._core.plan_item(300, 900, t._spec, 0, 0, 0)["height_first"]
    got = fastimg.load_batch([upright], t).images[0]
    np.testing.assert_array_equal(got, torchvision_eval(upright))
    shown = Image.open(io.BytesIO(rotated)).convert("RGB").transpose(Image.Transpose.ROTATE_270)
    buf = io.BytesIO()
    shown.save(buf, "PNG")
    got = fastimg.load_batch([rotated], t.replace(apply_exif_orientation=True)).images[0]
    np.testing.assert_array_equal(got, torchvision_eval(buf.getvalue()))


def test_exact_refuses_fast_dct_and_round_trips():
    with pytest.raises(ValueError, match="exact=True"):
        Transform(224, exact=True, fast_dct=True)
    t = Transform.imagenet_eval(224, exact=True)
    import pickle

    assert pickle.loads(pickle.dumps(t)) == t and t.exact


@pytest.mark.parametrize(("resample", "name"), [(Image.BICUBIC, "bicubic"), (Image.NEAREST, "nearest")])
def test_bicubic_and_nearest_match_pillow(resample, name):
    img = photo_like(90, 120, seed=4)
    data = encode(img, "PNG")
    ref = np.asarray(Image.fromarray(img).resize((50, 45), resample)).astype(int)
    exact = Transform((45, 50), interpolation=name, dtype="uint8", exact=True)
    got = fastimg.load_batch([data], exact).images[0].transpose(1, 2, 0).astype(int)
    np.testing.assert_array_equal(got, ref)
    # The default may shrink by area first (2x here), except for nearest, which must keep source pixels.
    fast = fastimg.load_batch([data], exact.replace(exact=False)).images[0].transpose(1, 2, 0).astype(int)
    if name == "nearest":
        assert np.array_equal(fast, got)
    else:
        assert np.abs(fast - ref).mean() <= 1.5


# -- stand-ins for torchvision's classes ----------------------------------------------------------------


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    LANCZOS = "lanczos"


def _tv(name, module="torchvision.transforms.v2._geometry", **attrs):
    cls = type(name, (), {"__module__": module})
    obj = cls()
    for k, v in attrs.items():
        setattr(obj, k, v)
    return obj


def Compose(steps):
    return _tv("Compose", "torchvision.transforms.v2._container", transforms=steps)


MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def train_compose(interpolation=InterpolationMode.BILINEAR):
    return Compose(
        [
            _tv(
                "RandomResizedCrop",
                size=[224, 224],
                scale=(0.08, 1.0),
                ratio=(3 / 4, 4 / 3),
                interpolation=interpolation,
            ),
            _tv("RandomHorizontalFlip", p=0.5),
            _tv("ToImage"),
            _tv("ToDtype", dtype=torch.float32, scale=True),
            _tv("Normalize", mean=MEAN, std=STD),
        ]
    )


def eval_compose():
    return Compose(
        [
            _tv("Resize", size=256, interpolation=InterpolationMode.BILINEAR, max_size=None),
            _tv("CenterCrop", size=[224, 224]),
            _tv("ToTensor", module="torchvision.transforms.transforms"),
            _tv("Normalize", mean=MEAN, std=STD),
        ]
    )


def test_from_torchvision_maps_the_common_recipes():
    assert Transform.from_torchvision(train_compose()) == Transform.imagenet_train(224)
    assert Transform.from_torchvision(eval_compose()) == Transform.imagenet_eval(224)
    assert Transform.from_torchvision(eval_compose(), exact=True) == Transform.imagenet_eval(224, exact=True)
    bicubic = Transform.from_torchvision(train_compose(InterpolationMode.BICUBIC))
    assert bicubic.interpolation == "bicubic"
    jitter = Compose(
        [
            _tv("CenterCrop", size=32),
            _tv("ColorJitter", brightness=(0.6, 1.4), contrast=None, saturation=(0.8, 1.2), hue=None),
            _tv("PILToTensor"),
        ]
    )
    t = Transform.from_torchvision(jitter)
    assert t.dtype == "uint8" and t.color_jitter == pytest.approx((0.4, 0.0, 0.2))
    with pytest.raises(ValueError, match="RandomRotation has no fastimg equivalent"):
        Transform.from_torchvision(Compose([_tv("RandomRotation")]))
    with pytest.raises(ValueError, match="hue range not symmetric"):
        Transform.from_torchvision(
            Compose(
                [
                    _tv("CenterCrop", size=8),
                    _tv("ColorJitter", brightness=None, contrast=None, saturation=None, hue=(-0.1, 0.2)),
                ]
            )
        )


def test_interpolation_accepts_strings_and_the_enum():
    for mode in InterpolationMode:
        if mode is InterpolationMode.LANCZOS:
            with pytest.raises(ValueError, match="bilinear, bicubic, nearest"):
                Transform(32, interpolation=mode)
        else:
            assert Transform(32, interpolation=mode).interpolation == mode.value
    assert Transform(32, interpolation="BICUBIC").interpolation == "bicubic"


def test_torchvision_transforms_are_refused_with_the_fastimg_spelling(image_folder):
    for call in (
        lambda: Loader(ImageFolder(image_folder), 4, transform=train_compose()),
        lambda: ImageFolder(image_folder, train_compose()),
        lambda: fastimg.ImageDataset([], transform=eval_compose()),
    ):
        with pytest.raises(TypeError) as info:
            call()
        message = str(info.value)
        assert "torchvision transform Compose([" in message and "RandomResizedCrop" in message
        assert "Transform.imagenet_train(224)" in message and "Transform.imagenet_eval(224)" in message
        assert "from_torchvision" in message


def test_image_folder_takes_torchvision_arguments(tmp_path, image_folder):
    ds = ImageFolder(image_folder, Transform(16), target_transform=lambda y: y + 10, seed=0)
    _, labels = next(iter(DataLoader(ds, batch_size=5, collate_fn=fastimg.collate)))
    assert labels.dtype == torch.int64 and labels.tolist() == [t + 10 for t in ds.targets[:5]]
    assert ds[0][1] == ds.targets[0] + 10
    with_loader = Loader(ds, 5, shuffle=False, seed=0)
    assert next(iter(with_loader))[1].tolist() == labels.tolist()
    names = ImageFolder(image_folder, Transform(16), target_transform=lambda y: f"class-{y}")
    _, named = next(iter(DataLoader(names, batch_size=3)))
    assert list(named) == ["class-0"] * 3  # what default_collate makes of strings
    floats = ImageFolder(image_folder, Transform(16), target_transform=float)
    assert next(iter(DataLoader(floats, batch_size=3, collate_fn=fastimg.collate)))[1].dtype == torch.float64
    (tmp_path / "empty_class").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.jpg").write_bytes(encode(photo_like(10, 10)))
    with pytest.raises(FileNotFoundError, match="empty_class"):
        ImageFolder(tmp_path)
    ok = ImageFolder(tmp_path, allow_empty=True)
    assert ok.classes == ["empty_class", "full"] and ok.targets == [1]
    with pytest.raises(TypeError, match=r"loader=.*cannot apply"):
        ImageFolder(image_folder, loader=Image.open)


def test_dtypes_means_and_integers_the_way_torch_users_write_them(image_folder):
    assert Transform(32, dtype=torch.float16).dtype == "float16"
    assert Transform(32, dtype=torch.uint8, mean=None, std=None).dtype == "uint8"
    assert Transform(32, dtype=np.float32).dtype == "float32"
    with pytest.raises(TypeError, match="dtype must be"):
        Transform(32, dtype=object())
    with pytest.raises(ValueError, match="dtype must be one of"):
        Transform(32, dtype=torch.int32)
    for mean in (MEAN, tuple(MEAN), np.array(MEAN), torch.tensor(MEAN)):
        assert Transform(32, mean=mean, std=np.array(STD)).mean == pytest.approx(tuple(MEAN))
    with pytest.raises(ValueError, match=r"0-255 units.*mean=\(0\.485, 0\.456, 0\.406\)"):
        Transform(32, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    assert Transform(np.int64(32)).size == (32, 32) and Transform(torch.tensor(32)).size == (32, 32)
    assert Transform((np.int32(20), torch.tensor(30))).size == (20, 30)
    ds = ImageFolder(image_folder, Transform(16))
    assert Loader(ds, np.int64(4), prefetch=np.int32(1)).batch_size == 4
    assert Loader(ds, torch.tensor(4)).batch_size == 4
    with pytest.raises(ValueError, match="batch_size"):
        Loader(ds, 4.0)
    img = np.zeros((8, 8, 3), np.uint8)
    assert fastimg.batch_resize_images([img], (torch.tensor(4), np.int64(5)), num_threads=torch.tensor(1))[0].shape == (
        5,
        4,
        3,
    )
    assert fastimg.batch_crop_images([img], (np.int32(1), torch.tensor(1), 2, 3))[0].shape == (3, 2, 3)


def test_a_size_that_looks_swapped_says_so():
    img = np.zeros((300, 200, 3), np.uint8)  # 200 wide, 300 high
    with pytest.raises(ValueError, match=r"\(width, height\): did you mean \(200, 300\)\?"):
        fastimg.batch_center_crop_images([img], (300, 200))
    with pytest.raises(ValueError, match=r"did you mean \(200, 250\)"):
        fastimg.batch_crop_images([img], (0, 0, 250, 200))
    with pytest.raises(ValueError) as info:
        fastimg.batch_center_crop_images([img], (400, 400))
    assert "did you mean" not in str(info.value)


PORTED_SCRIPT = """
import sys, torch, fastimg
torch.manual_seed(0)
train = fastimg.ImageFolder(sys.argv[1], fastimg.Transform.imagenet_train(32))
val = fastimg.ImageFolder(sys.argv[1], fastimg.Transform.imagenet_eval(32, exact=True))
loader = torch.utils.data.DataLoader(train, batch_size=8, shuffle=True, num_workers=2)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                            torch.nn.Linear(8, len(train.classes)))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(2):
    for images, labels in loader:
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad():
        images, labels = next(iter(torch.utils.data.DataLoader(val, batch_size=16, collate_fn=fastimg.collate)))
        print(epoch, float(loss), (model(images).argmax(1) == labels).float().mean().item())
"""


@pytest.mark.timeout(300)
def test_a_ported_torchvision_script_trains_two_epochs_without_warnings(image_folder):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", PORTED_SCRIPT, str(image_folder)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr == "", out.stderr[-3000:]
    assert [line.split()[0] for line in out.stdout.splitlines()] == ["0", "1"]
