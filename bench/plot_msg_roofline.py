#!/usr/bin/python3
"""Plot bench/msg_roofline CSV as a roofline: achieved GB/s against message size for the raw
two-sided and one-sided transfers, their fitted latency slope and bandwidth roof, and on the
same axes the library's operations (halo exchange, reduction round trips) of every backend
present in the CSV (concatenate the CSVs of STARLOPS_COMM=mpi and =rma runs).
Usage: BUILD/starlops-python plot_msg_roofline.py msg_roofline.csv [out.png]"""
import csv
import sys
from collections import defaultdict


def main():
    path = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else path.rsplit(".", 1)[0] + ".png"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = defaultdict(list)
    fits = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["kind"] == "kind":
                continue  # a header repeated by concatenation
            if r["kind"].startswith("fit_"):
                fits[r["kind"][4:]] = (float(r["seconds"]), float(r["gbs"]))
                continue
            series[r["kind"]].append((int(r["bytes"]), float(r["gbs"])))
    fig, ax = plt.subplots(figsize=(8, 5.5))
    styles = {"raw_two_sided": ("C0", "o-"), "raw_one_sided_put": ("C1", "s-")}
    for kind, pts in sorted(series.items()):
        pts.sort()
        colour, style = styles.get(kind, (None, "^--" if "halo" in kind else "D:"))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=colour, label=kind)
    # the fit, redone here on the relative error (older CSVs hold an unweighted one)
    for name, kind in (("two_sided", "raw_two_sided"), ("one_sided", "raw_one_sided_put")):
        pts = [(b, b / g / 1e9) for b, g in series.get(kind, []) if g > 0]
        if len(pts) >= 2:
            w = [1 / t ** 2 for _, t in pts]
            sw = sum(w)
            sx = sum(wi * b for wi, (b, _) in zip(w, pts))
            sy = sum(wi * t for wi, (_, t) in zip(w, pts))
            sxx = sum(wi * b * b for wi, (b, _) in zip(w, pts))
            sxy = sum(wi * b * t for wi, (b, t) in zip(w, pts))
            slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
            if slope > 0:
                fits[name] = ((sy - slope * sx) / sw, 1 / slope / 1e9)
    sizes = sorted({p[0] for pts in series.values() for p in pts} | {8, 64 << 20})
    for name, colour in (("two_sided", "C0"), ("one_sided", "C1")):
        if name in fits:
            lat, bw = fits[name]
            model = [b / (lat + b / (bw * 1e9)) / 1e9 for b in sizes]
            ax.plot(sizes, model, ":", color=colour, alpha=0.6,
                    label="fit %s: %.2f us + b / %.1f GB/s" % (name, lat * 1e6, bw))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("message bytes")
    ax.set_ylabel("achieved GB/s (bytes / one-way time)")
    ax.set_title("Messages on this machine: raw MPI and the library's operations")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main()
