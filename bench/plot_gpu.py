#!/usr/bin/python3
"""Plot bench/gpu CSV: each measured figure as a fraction of its ceiling from the same run
(bandwidths and Gflop/s: value / ceiling; times, as CGLS iterations and allreduces: floor / time,
so that higher is better everywhere), with the issue's target as a tick on each bar. Rows without a figure (not
built, skipped, failed) are listed under the chart.
Usage: BUILD/starlops-python plot_gpu.py gpu_bench.csv [out.png]   (needs matplotlib)"""
import csv
import math
import sys


def fraction(r):
    """(fraction of the ceiling, target as a fraction) or None when the row has no ratio."""
    try:
        ratio = float(r["ratio"])
    except ValueError:
        return None
    if math.isnan(ratio) or ratio <= 0:
        return None
    target = r["target"]
    goal = float(target[2:]) if target else None
    if r["unit"] in ("ms", "us"):  # a time against a floor: plot floor / time
        return 1.0 / ratio, (1.0 / goal if goal else None)
    return ratio, goal


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "gpu_bench.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else "gpu_bench.png"
    rows = list(csv.DictReader(open(path)))
    bars, missing = [], []
    for r in rows:
        f = fraction(r)
        label = f'{r["section"]}: {r["case"]}\n{r["size"]} ({r["placement"]})'
        if f is None:
            if r["status"] not in ("ceiling", "n/a"):
                missing.append(f'{r["section"]}: {r["case"]}: {r["status"]}')
        else:
            bars.append((label, f[0], f[1], r["status"]))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    height = max(3.0, 0.45 * len(bars) + 1.5 + 0.2 * len(missing))
    fig, ax = plt.subplots(figsize=(9, height))
    ys = range(len(bars))
    colours = ["tab:green" if b[3] == "met" else "tab:red" if b[3] == "not met" else "tab:grey"
               for b in bars]
    ax.barh(list(ys), [b[1] for b in bars], color=colours)
    for y, b in zip(ys, bars):
        if b[2]:
            ax.plot([b[2], b[2]], [y - 0.4, y + 0.4], "k-", lw=2)
        ax.annotate(f"{b[1]:.2f}", (b[1], y), va="center", fontsize=8,
                    xytext=(3, 0), textcoords="offset points")
    ax.set_yticks(list(ys))
    ax.set_yticklabels([b[0] for b in bars], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color="k", ls="--", lw=0.8)
    ax.set_xlabel("fraction of the ceiling measured in the same run (black tick: target; "
                  "times: floor / time)")
    ax.set_title("starlops on one GPU (bench/gpu)")
    if missing:
        fig.text(0.01, 0.01, "\n".join(missing), fontsize=7, va="bottom")
    fig.tight_layout(rect=(0, 0.03 * len(missing) / max(1, height / 4), 1, 1))
    fig.savefig(out, dpi=120)
    print("wrote", out)


if __name__ == "__main__":
    main()
