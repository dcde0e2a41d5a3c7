"""The charts of the results: fastimg's speed-up over each competitor (ops, pipeline) and the training
section's three rates per loader, written next to the results file.

.venv/bin/python benchmarks/chart.py [benchmarks/results/ops.json]   # writes ops.png next to it
.venv/bin/python benchmarks/chart.py benchmarks/results/pipeline.json
.venv/bin/python benchmarks/chart.py benchmarks/results/training.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt
from report import RESULTS_DIR, ratio_text


def speedup_chart(path: Path) -> Path:
    """<section>.png next to an ops or pipeline results file: fastimg's speed-up over each competitor."""
    data = json.loads(path.read_text())
    m = data["machine"]
    # Competitors only: not fastimg itself, the memory-read floor, reference rows (ceilings) or n/a rows.
    rows = [r for r in data["rows"] if r["adapter"] != "fastimg" and not r["adapter"].startswith("memory_read")]
    rows = [r for r in rows if not r.get("reference") and "fastimg_speedup" in r]
    colours = [{"PASS": "tab:green", "MISS": "tab:red"}.get(r["status"], "tab:gray") for r in rows]
    fig, ax = plt.subplots(figsize=(10, 0.22 * len(rows) + 1.5))
    y = range(len(rows))
    ax.barh(y, [r["fastimg_speedup"] for r in rows], color=colours)
    goals = [(i, r["goal"]) for i, r in enumerate(rows) if r["goal"] is not None]
    ax.scatter([g for _, g in goals], [i for i, _ in goals], marker="|", s=80, color="black", label="goal")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(list(y), [f"{r['workload']} · {r['name']}" for r in rows], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("competitor time / fastimg time (>1: fastimg faster; green PASS, red MISS)")
    ax.set_title(f"fastimg {m['versions']['fastimg']} · {m['cpu']}, {m['usable_cpus']} CPUs")
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = path.with_suffix(".png")
    fig.savefig(out, dpi=120)
    return out


COLOURS = {"torch": "tab:gray", "fastimg": "tab:green", "fastimg_dl": "tab:olive", "model_alone": "white"}
SHORT = {
    "torch": "DataLoader\n2 workers + Pillow",
    "fastimg": "fastimg.Loader",
    "model_alone": "model alone\n(no loading)",
}
SHORT["fastimg_dl"] = "DataLoader(fastimg\n.ImageFolder), 0 workers"


def _bars(ax: Any, keys: list[str], values: list[float], title: str, unit: str, goal: float | None = None) -> None:
    """One panel: a bar per loader, labelled with its value and its ratio to the DataLoader ("torch")."""
    x = range(len(keys))
    ax.bar(x, values, color=[COLOURS.get(k, "tab:blue") for k in keys], edgecolor="black", linewidth=0.6)
    ref = values[keys.index("torch")] if "torch" in keys else None
    for i, (k, v) in enumerate(zip(keys, values)):
        label = (f"{v:,.0f}" if v >= 100 else f"{v:.1f}") + (
            f"\n{ratio_text(v / ref)}x" if ref and k != "torch" else ""
        )
        ax.text(i, v, label, ha="center", va="bottom", fontsize=7)
    if goal and ref:
        ax.axhline(goal * ref, color="black", linestyle="--", linewidth=0.8, label=f"goal: {goal:g}x DataLoader")
        ax.legend(fontsize=7, loc="upper left")
        values = [*values, goal * ref]
    ax.set_xticks(list(x), [SHORT.get(k, k) for k in keys], fontsize=6)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.set_ylim(0, max(values) * 1.3 if values else 1)


def training_chart(results: dict[str, Any], out: Path | None = None) -> Path:
    """training.png: the training section's three rates per loader."""
    keys, m = list(results["loaders"]), results["machine"]
    goals = {g["goal"]: g["target"] for g in results["goals"]}
    step, train, alone = (results[k]["rows"] for k in ("step_rate", "train", "alone"))
    found, threads = [k for k in keys if step[k].get("found")], results["train"]["torch_threads"]
    titles = [
        "1. max steps/s with <5% data wait\n(simulated accelerator, batches of 32)",
        f"2. small CNN trained on the CPU\n({threads} torch thread, steady state)",
        "3. loader alone\n(best epoch)",
    ]
    panels = [(found, step, "steps_per_s", "steps/s", goals.get("step_rate"))]
    panels += [([*keys, "model_alone"], train, "images_per_s", "images/s", None)]
    panels += [(keys, alone, "images_per_s", "images/s", goals.get("alone"))]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    for ax, title, (ks, rows, field, unit, goal) in zip(axes, titles, panels):
        _bars(ax, ks, [rows[k][field] for k in ks], title, unit, goal)
    quick = " · --quick" if results["quick"] else ""
    fig.suptitle(
        f"fastimg {m['versions']['fastimg']} training loaders · {m['cpu']}, {m['usable_cpus']} CPUs{quick}", fontsize=10
    )
    fig.tight_layout()
    out = out or RESULTS_DIR / "training.png"
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS_DIR / "ops.json"
    results = json.loads(path.read_text())
    print(
        training_chart(results, path.with_suffix(".png"))
        if results.get("section") == "training"
        else speedup_chart(path)
    )
