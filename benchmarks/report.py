"""The one renderer of benchmark reports: machine facts, number and ratio formatting, goal verdicts, markdown
tables, and writing results/<section>.{md,json}. Reports hold this run's numbers only; what they mean and how
they were measured is written once, in docs/benchmarks.md."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
QUICK_NOTE = " (--quick: a smoke test, not for quoting)"


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_info(packages: list[str]) -> dict[str, Any]:
    import fastimg

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    info = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "cpu": _cpu_model(), "cpu_count": os.cpu_count()}
    info.update(usable_cpus=cpus, load_average=load, platform=platform.platform(), python=sys.version.split()[0])
    return {**info, "fastimg_threads": fastimg.get_num_threads(), "versions": {n: _version(n) for n in packages}}


def finish_machine_info(info: dict[str, Any], started: float | None = None) -> None:
    """Adds the load average at the end (and the section's wall time since `started`, a perf_counter)."""
    if hasattr(os, "getloadavg"):
        info["load_average_end"] = list(os.getloadavg())
    if started is not None:
        info["wall_s"] = time.perf_counter() - started


def header(title: str, info: dict[str, Any], quick: bool, section: str) -> list[str]:
    """Title, machine facts and versions, and where the method is written."""
    facts = [info["date"], f"{info['cpu']}, {info['usable_cpus']} usable CPUs"]
    if info.get("load_average"):
        end = info.get("load_average_end")
        facts.append(f"1-min load average {info['load_average'][0]:.2f}" + (f" -> {end[0]:.2f}" if end else ""))
    facts.append(f"Python {info['python']}")
    if "wall_s" in info:
        facts.append(f"section wall time {info['wall_s']:.0f} s")
    versions = [f"{name} {v}" for name, v in info["versions"].items()]
    versions.append(f"fastimg threads {info['fastimg_threads']}")
    method = f"Method and column meanings: [docs/benchmarks.md#{section}](../../docs/benchmarks.md#{section})."
    head = f"# {title}" + (QUICK_NOTE if quick else "")
    return [head, "", " · ".join(facts), "", " · ".join(versions), "", method, ""]


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def fmt_rate(per_s: float) -> str:
    return f"{per_s:,.0f}" if per_s >= 100 else f"{per_s:.3g}"


def fmt_pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


def fmt_mb(n: Any) -> str:
    return f"{n / 2**20:,.0f}" if isinstance(n, (int, float)) and n else "n/a"


def ratio(a: float, b: float) -> float:
    """a / b, NaN when either is missing (NaN) or b is 0."""
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def ratio_text(x: float, *, at_most: bool = False) -> str:
    """A ratio cut to 2-3 significant digits towards the side that keeps the printed value in agreement with
    its goal's verdict: down for a floor (1.798 against >= 1.8 must not read 1.80), up for a ceiling
    (`at_most`: 1.1503 against <= 1.15 must not read 1.15). "n/a" for NaN."""
    if math.isnan(x):
        return "n/a"
    digits = 3 if x < 1 else 2 if x < 10 else 1 if x < 100 else 0
    cut = math.ceil if at_most else math.floor
    return f"{cut(round(x * 10**digits, 9)) / 10**digits:.{digits}f}"


def goal_status(value: float, goal: float, *, at_most: bool = False) -> str:
    """PASS or MISS of a ratio against its goal, a floor unless `at_most`; "n/a" when not measured."""
    if math.isnan(value):
        return "n/a"
    return "PASS" if (value <= goal if at_most else value >= goal) else "MISS"


def goal_text(goal: float, status: str, *, at_most: bool = False) -> str:
    """The goal cell of a table row: ">=1.8 PASS", "<=1.15 MISS"."""
    return f"{'<=' if at_most else '>='}{goal:g} {status}"


def goals_section(goals: list[dict[str, Any]], *, list_all: bool = False) -> list[str]:
    """ "## Goals: k/n PASS" and a table of the goals that did not pass (every goal with `list_all`). Each goal
    is a dict with what, ratio, goal, status, and optionally at_most (a ceiling) and note."""
    judged = [g for g in goals if g["status"] in ("PASS", "MISS")]
    passed = sum(g["status"] == "PASS" for g in judged)
    lines = [f"## Goals: {passed}/{len(judged)} PASS", ""]
    shown = goals if list_all else [g for g in goals if g["status"] != "PASS"]
    if shown:
        rows = []
        for g in shown:
            at_most = g.get("at_most", False)
            measured = "not measured" if math.isnan(g["ratio"]) else f"{ratio_text(g['ratio'], at_most=at_most)}x"
            target = f"{'<=' if at_most else '>='} {g['goal']:g}x"
            rows.append([g["status"], g["what"], measured, target, g.get("note", "")])
        lines += [markdown_table(["status", "goal", "ratio", "target", "note"], rows), ""]
    return lines


def load_table(loads: list[tuple[str, dict[str, Any]]]) -> str:
    """Other processes' CPU and steal while each labelled stretch was timed (contention.CpuMeter results)."""
    rows = []
    for label, load in loads:
        seconds = [f"{load[k]:.1f}" for k in ("wall_s", "own_cpu_s", "other_cpu_s", "steal_s") if k in load]
        if "other_cores" not in load:
            rows.append([label, *seconds, "", "", "not measured", ""])
        else:
            rows.append([label, *seconds, f"{load['other_cores']:.2f}", "**SUSPECT: rerun**" * load["suspect"]])
    columns = ["timed stretch", "wall s", "this benchmark CPU s", "other CPU s", "steal s", "other cores", ""]
    return markdown_table(columns, rows)


def markdown_table(columns: list[str], rows: list[list[str]]) -> str:
    """The one table renderer: a GitHub markdown table, "|" inside a cell escaped."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(columns), "|" + "|".join("---" for _ in columns) + "|", *[line(row) for row in rows]])


def timed_cells(r: dict[str, Any], baseline: str, goal: str) -> list[str]:
    """The timing cells of an ops or pipeline row (timing.figures): best and median ms, rate, fastimg x (in
    parentheses for a reference row), the goal cell, fastimg x of medians."""
    is_base, speedup = r["adapter"] == baseline, ratio_text(r["fastimg_speedup"])
    speedup = "—" if is_base else f"({speedup})" if r.get("reference") else speedup
    median = "—" if is_base else ratio_text(r["fastimg_speedup_median"])
    return [fmt_ms(r["best_s"]), fmt_ms(r["median_s"]), fmt_rate(r["items_per_s"]), speedup, goal, median]


def speedup_goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The goals of ops and pipeline rows (fastimg x against a goal), for goals_section."""
    out = []
    for r in [r for r in rows if r["goal"] is not None]:
        load = r.get("machine_load", {})
        note = f"timed under {load['other_cores']:.2f} cores of other load: rerun" if load.get("suspect") else ""
        status, note = (r["status"], note) if "best_s" in r else ("n/a", r["na_reason"])
        what, value = f"{r['workload']} vs {r['name']}", r.get("fastimg_speedup", math.nan)
        out.append({"what": what, "ratio": value, "goal": r["goal"], "status": status, "note": note})
    return out


def write_results(section: str, markdown: str, data: dict[str, Any]) -> list[Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    md, js = RESULTS_DIR / f"{section}.md", RESULTS_DIR / f"{section}.json"
    md.write_text(markdown + "\n")
    js.write_text(json.dumps(data, indent=1) + "\n")
    return [md, js]


def publish(section: str, markdown: str, data: dict[str, Any]) -> list[Path]:
    """Prints the report, writes results/<section>.md and .json and says where."""
    print(f"\n{markdown}")
    paths = write_results(section, markdown, data)
    for path in paths:
        print(f"wrote {path}")
    return paths
