"""`make bench` section "accuracy": the default pipeline's distance from torchvision's PIL path (rebuilt from
Pillow) and the speed it buys, against `exact=True` on the same files. Method: docs/benchmarks.md#accuracy."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import report
from adapters.pipe_geometry import resized_size
from PIL import Image
from pipeline_data import image_sets
from timing import QUICK, Plan, measure

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
        box = tuple(int(round(v)) for v in t.params(w, h, index)["box"])
        return np.asarray(im.crop(box).resize((t.size[1], t.size[0]), resample))
    ow, oh = resized_size(w, h, int(t.resize))  # type: ignore[arg-type]
    im = im.resize((ow, oh), resample)
    top, left = int(round((oh - t.size[0]) / 2.0)), int(round((ow - t.size[1]) / 2.0))
    return np.asarray(im.crop((left, top, left + t.size[1], top + t.size[0])))


def _pixels(batch: np.ndarray, t: fastimg.Transform) -> np.ndarray:
    mean = np.asarray(t.mean).reshape(1, 3, 1, 1)
    std = np.asarray(t.std).reshape(1, 3, 1, 1)
    return ((batch.astype(np.float64) * std + mean) * 255).transpose(0, 2, 3, 1)


def _errors(paths: list[str], t: fastimg.Transform) -> dict[str, float]:
    out = _pixels(fastimg.load_batch(paths, t, seed=0).images, t)
    diffs = [np.abs(out[k] - _reference(Path(p).read_bytes(), t, k).astype(np.float64)) for k, p in enumerate(paths)]
    count = sum(d.size for d in diffs)
    mse, mean = sum(float((d**2).sum()) for d in diffs) / count, sum(float(d.sum()) for d in diffs) / count
    # Below 1e-6 the difference is float32 rounding of the normalised output: identical pixels.
    psnr = 10 * np.log10(255**2 / mse) if mse > 1e-6 else float("inf")
    return {"max_abs": max(float(d.max()) for d in diffs), "mean_abs": mean, "psnr_db": psnr}


def run(quick: bool = False) -> None:
    sets = image_sets()
    info = report.machine_info(["fastimg", "pillow", "numpy"])
    plan = QUICK if quick else Plan(max_rounds=20, min_rounds=3, budget_s=8.0)
    rows: list[dict[str, Any]] = []
    for set_name in SETS:
        paths = sets[set_name].paths[: 8 if quick else 64]
        for work, default in _workloads().items():
            modes = {"default": default, "exact=True": default.replace(exact=True)}
            calls = {mode: (lambda t=t, p=paths: fastimg.load_batch(p, t, seed=0)) for mode, t in modes.items()}
            times, _ = measure(calls, plan)
            for mode, t in modes.items():
                row = {"set": set_name, "workload": work, "mode": mode, **_errors(paths, t)}
                row["ms_per_image"] = min(times[mode]) / len(paths) * 1e3
                row["speed_vs_exact"] = min(times["exact=True"]) / min(times[mode])
                rows.append(row)
            print(f"  accuracy: {set_name} / {work} done", flush=True)
    report.finish_machine_info(info)
    table = []
    for r in rows:
        psnr = "inf" if r["psnr_db"] == float("inf") else f"{r['psnr_db']:.1f}"
        cells = [f"{r['max_abs']:.2f}", f"{r['mean_abs']:.3f}", psnr, report.fmt_ms(r["ms_per_image"] / 1e3)]
        table.append([r["set"], r["workload"], r["mode"], *cells, f"{report.ratio_text(r['speed_vs_exact'])}x"])
    columns = ["set", "workload", "mode", "max |Δ|", "mean |Δ|", "PSNR dB", "ms / image", "speed vs exact"]
    title = "Accuracy against torchvision's PIL path, and the speed the default buys"
    markdown = "\n".join([*report.header(title, info, quick, "accuracy"), report.markdown_table(columns, table)])
    report.publish("accuracy", markdown, {"machine": info, "rows": rows})
