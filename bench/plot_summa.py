#!/usr/bin/python3
"""Plot bench/summa CSV: per (N, K, M), Gflop/s of the forward and adjoint MatrixMult against the
rank count for the 1D split, SUMMA's best grid and ScaLAPACK PDGEMM's best grid, next to the
single-process dgemm and the all-ranks ceiling measured in the same run; and bytes received per
rank per forward+adjoint, 1D vs 2D grids, next to the models.
Usage: BUILD/starlops-python plot_summa.py summa_bench.csv [out.png]   (needs python3-matplotlib)"""
import csv
import sys
from collections import defaultdict


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "summa_bench.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else "summa_bench.png"
    best = defaultdict(dict)   # (n,k,m,dir) -> kind -> ranks -> gflops (best grid)
    traffic = defaultdict(dict)  # (n,k,m) -> label -> (ranks, bytes, model)
    for r in csv.DictReader(open(path)):
        size = (int(r["n"]), int(r["k"]), int(r["m"]))
        ranks, kind, gf = int(r["ranks"]), r["kind"], float(r["gflops"])
        dirs = ("fwd", "adj") if kind in ("dgemm1", "ceiling") else (r["dir"],)
        for d in dirs:
            cur = best[size + (d,)].setdefault(kind, {})
            cur[ranks] = max(cur.get(ranks, 0.0), gf)
        if kind in ("1d", "summa") and r["dir"] == "fwd" and ranks > 1:
            label = "1d" if kind == "1d" else "summa %sx%s" % (r["p"], r["q"])
            traffic[size][(label, ranks)] = (float(r["bytes_per_rank"]), float(r["model_bytes"]))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = sorted(best)
    fig, axes = plt.subplots(1, len(keys) + 1, figsize=(4 * (len(keys) + 1), 4), squeeze=False)
    styles = {"dgemm1": "k:", "ceiling": "k--", "1d": "o-", "summa": "s-", "pdgemm": "^-"}
    for ax, key in zip(axes[0], keys):
        for kind, pts in sorted(best[key].items()):
            ks = sorted(pts)
            ax.plot(ks, [pts[k] for k in ks], styles.get(kind, "o-"), label=kind)
        ax.set_title("N=K=%d M=%d %s" % (key[0], key[2], key[3]))
        ax.set_xlabel("ranks")
        ax.set_ylabel("Gflop/s")
        ax.legend(fontsize=7)
    bx = axes[0][-1]
    for size, pts in sorted(traffic.items()):
        for (label, ranks), (b, model) in sorted(pts.items()):
            bx.scatter(size[2], b / 1e6, marker="o" if label == "1d" else "s")
            bx.annotate("%s@%d" % (label, ranks), (size[2], b / 1e6), fontsize=6)
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("M (right-hand sides)")
    bx.set_ylabel("MB received per rank (fwd+adj)")
    bx.set_title("traffic, N=K")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main()
