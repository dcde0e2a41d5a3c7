"""training.png: the training section's three rates per loader, from the results dict (or training.json).

.venv/bin/python benchmarks/training_chart.py [benchmarks/results/training.json]
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

COLOURS = {"torch": "tab:gray", "fastimg": "tab:green", "fastimg_dl": "tab:olive", "model_alone": "white"}
SHORT = {
    "torch": "DataLoader\n2 workers + Pillow",
    "fastimg": "fastimg.Loader",
    "fastimg_dl": "DataLoader(fastimg\n.ImageFolder), 0 workers",
    "model_alone": "model alone\n(no loading)",
}


def _bars(
    ax: Any, keys: list[str], values: list[float], title: str, unit: str, goal: float | None = None, base: str = "torch"
) -> None:
    x = range(len(keys))
    ax.bar(x, values, color=[COLOURS.get(k, "tab:blue") for k in keys], edgecolor="black", linewidth=0.6)
    ref = values[keys.index(base)] if base in keys else None
    for i, (k, v) in enumerate(zip(keys, values)):
        label = f"{v:,.0f}" if v >= 100 else f"{v:.1f}"
        if ref and k != base:
            label += f"\n{ratio_text(v / ref)}x"
        ax.text(i, v, label, ha="center", va="bottom", fontsize=7)
    if goal and ref:
        ax.axhline(goal * ref, color="black", linestyle="--", linewidth=0.8, label=f"goal: {goal:g}x DataLoader")
        ax.legend(fontsize=7, loc="upper left")
        values = [*values, goal * ref]
    ax.set_xticks(list(x), [SHORT.get(k, k) for k in keys], fontsize=6)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.set_ylim(0, max(values) * 1.3 if values else 1)


def chart(results: dict[str, Any], out: Path | None = None) -> Path:
    keys = list(results["loaders"])
    goals = {g["goal"]: g["target"] for g in results["goals"]}
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    step = results["step_rate"]["rows"]
    found = [k for k in keys if step[k].get("found")]
    _bars(
        axes[0],
        found,
        [step[k]["steps_per_s"] for k in found],
        "1. max steps/s with <5% data wait\n(simulated accelerator, batches of 32)",
        "steps/s",
        goals.get("step_rate"),
    )
    train = results["train"]["rows"]
    tkeys = [*keys, "model_alone"]
    _bars(
        axes[1],
        tkeys,
        [train[k]["images_per_s"] for k in tkeys],
        f"2. small CNN trained on the CPU\n({results['train']['torch_threads']} torch thread, steady state)",
        "images/s",
    )
    alone = results["alone"]["rows"]
    _bars(
        axes[2],
        keys,
        [alone[k]["images_per_s"] for k in keys],
        "3. loader alone\n(best epoch)",
        "images/s",
        goals.get("alone"),
    )
    m = results["machine"]
    fig.suptitle(
        f"fastimg {m['versions']['fastimg']} training loaders · {m['cpu']}, {m['usable_cpus']} CPUs"
        + (" · --quick" if results["quick"] else ""),
        fontsize=10,
    )
    fig.tight_layout()
    out = out or RESULTS_DIR / "training.png"
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS_DIR / "training.json"
    print(chart(json.loads(path.read_text()), path.with_suffix(".png")))
