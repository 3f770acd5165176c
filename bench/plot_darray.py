#!/usr/bin/python3
"""Plot bench/darray CSV: GB/s of axpy/dot/norm next to the STREAM triad, per rank count.
Usage: BUILD/starlops-python plot_darray.py darray_bench.csv [out.png]   (needs matplotlib: apt-get install python3-matplotlib)"""
import csv
import sys
from collections import defaultdict

def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "darray_bench.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else "darray_bench.png"
    rows = [r for r in csv.DictReader(open(path)) if r["GBps"]]
    series, triad = defaultdict(dict), {}
    for r in rows:
        ranks = int(r["ranks"])
        series[r["op"]][ranks] = float(r["GBps"])
        triad[ranks] = float(r["triad_GBps"])
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for op, pts in sorted(series.items()):
        ks = sorted(pts)
        ax.plot(ks, [pts[k] for k in ks], marker="o", label=op)
    ks = sorted(triad)
    ax.plot(ks, [triad[k] for k in ks], "k--", label="STREAM triad (same run)")
    ax.set_xticks(sorted(triad))
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("GB/s (all ranks)")
    ax.set_title("starlops distributed array bandwidth")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print("wrote", out)

if __name__ == "__main__":
    main()
