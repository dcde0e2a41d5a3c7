"""`make bench` section "accuracy": the default pipeline's distance from torchvision's pixels and the speed
it buys, against `exact=True` (bit-exact with torchvision's PIL path) on the same files, in one run.

The reference is what torchvision's PIL backend computes: Pillow's full decode, Pillow's antialiased
resize, then the crop (Resize + CenterCrop), or the crop then the resize (RandomResizedCrop, the box from
fastimg's own plan). Method: docs/benchmarks.md#accuracy."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image
from pipeline_data import image_sets
from report import finish_machine_info, fmt_ms, header, machine_info, markdown_table, ratio_text, write_results
from timing import Plan, measure

import fastimg

SETS = ("imagenet", "large")
RESAMPLE = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def _workloads() -> dict[str, fastimg.Transform]:
    return {
        "eval 224 (Resize 256 + CenterCrop)": fastimg.Transform.imagenet_eval(224),
        "eval 224, bicubic": fastimg.Transform.imagenet_eval(224, interpolation="bicubic"),
        "train 224 (RandomResizedCrop, no flip)": fastimg.Transform(224, crop="random_resized"),
    }


def _reference(data: bytes, t: fastimg.Transform, index: int) -> np.ndarray:
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    resample = RESAMPLE[t.interpolation]
    if t.crop == "random_resized":
        x0, y0, x1, y1 = fastimg._core.plan_item(w, h, t._spec, 0, 0, index)["box"]
        box = tuple(int(round(v)) for v in (x0, y0, x1, y1))
        return np.asarray(im.crop(box).resize((t.size[1], t.size[0]), resample))
    short = int(t.resize)  # type: ignore[arg-type]
    ow, oh = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
    im = im.resize((ow, oh), resample)
    top, left = int(round((oh - t.size[0]) / 2.0)), int(round((ow - t.size[1]) / 2.0))
    return np.asarray(im.crop((left, top, left + t.size[1], top + t.size[0])))


def _pixels(batch: np.ndarray, t: fastimg.Transform) -> np.ndarray:
    mean = np.asarray(t.mean).reshape(1, 3, 1, 1)
    std = np.asarray(t.std).reshape(1, 3, 1, 1)
    return ((batch.astype(np.float64) * std + mean) * 255).transpose(0, 2, 3, 1)


def _errors(paths: list[str], t: fastimg.Transform) -> dict[str, float]:
    out = _pixels(fastimg.load_batch(paths, t, seed=0).images, t)
    worst, total, count, sq = 0.0, 0.0, 0, 0.0
    for k, path in enumerate(paths):
        with open(path, "rb") as f:
            ref = _reference(f.read(), t, k).astype(np.float64)
        d = np.abs(out[k] - ref)
        worst, total, count, sq = (
            max(worst, float(d.max())),
            total + float(d.sum()),
            count + d.size,
            sq + float((d**2).sum()),
        )
    mse = sq / count
    return {
        "max_abs": worst,
        "mean_abs": total / count,
        # Below 1e-6 the difference is float32 rounding of the normalised output: identical pixels.
        "psnr_db": 10 * np.log10(255**2 / mse) if mse > 1e-6 else float("inf"),
    }


def run(quick: bool = False) -> None:
    sets = image_sets()
    info = machine_info(["fastimg", "pillow", "numpy"])
    plan = Plan(max_rounds=1, min_rounds=1, budget_s=0.0) if quick else Plan(max_rounds=20, min_rounds=3, budget_s=8.0)
    rows: list[dict[str, Any]] = []
    for set_name in SETS:
        paths = sets[set_name].paths[: 8 if quick else 64]
        for work, default in _workloads().items():
            exact = default.replace(exact=True)
            times, _ = measure(
                {
                    "default": lambda d=default, p=paths: fastimg.load_batch(p, d, seed=0),
                    "exact": lambda e=exact, p=paths: fastimg.load_batch(p, e, seed=0),
                },
                plan,
            )
            for mode, t in (("default", default), ("exact=True", exact)):
                key = "default" if mode == "default" else "exact"
                row = {"set": set_name, "workload": work, "mode": mode, **_errors(paths, t)}
                row["ms_per_image"] = min(times[key]) / len(paths) * 1e3
                row["speed_vs_exact"] = min(times["exact"]) / min(times[key])
                rows.append(row)
            print(f"  accuracy: {set_name} / {work} done", flush=True)
    finish_machine_info(info)
    table = markdown_table(
        ["set", "workload", "mode", "max |Δ|", "mean |Δ|", "PSNR dB", "ms / image", "speed vs exact"],
        [
            [
                r["set"],
                r["workload"],
                r["mode"],
                f"{r['max_abs']:.2f}",
                f"{r['mean_abs']:.3f}",
                "inf" if r["psnr_db"] == float("inf") else f"{r['psnr_db']:.1f}",
                fmt_ms(r["ms_per_image"] / 1e3),
                f"{ratio_text(r['speed_vs_exact'])}x",
            ]
            for r in rows
        ],
    )
    title = "Accuracy against torchvision's PIL path, and the speed the default buys"
    markdown = "\n".join([*header(title, info, quick, "accuracy"), table])
    print(table)
    write_results("accuracy", markdown, {"machine": info, "rows": rows})
