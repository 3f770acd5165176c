#!/usr/bin/python3
"""Plot bench/stencil CSV: (1) effective GB/s of each stencil operator next to the STREAM triad
per rank count, (2) halo-exchange time against the ghost slab's size.
Usage: BUILD/starlops-python plot_stencil.py stencil_bench.csv [out.png]   (needs matplotlib: apt-get install python3-matplotlib)"""
import csv
import sys
from collections import defaultdict

def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "stencil_bench.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else "stencil_bench.png"
    rows = list(csv.DictReader(open(path)))
    series, triad, halo = defaultdict(dict), {}, defaultdict(dict)
    for r in rows:
        ranks = int(r["ranks"])
        if r["op"].startswith("halo_slab_bytes_"):
            halo[ranks][int(r["op"].rsplit("_", 1)[1])] = float(r["seconds"]) * 1e6
        elif r["GBps"]:
            series[r["op"]][ranks] = float(r["GBps"])
            triad[ranks] = float(r["triad_GBps"])
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    for op, pts in sorted(series.items()):
        ks = sorted(pts)
        ax.plot(ks, [pts[k] for k in ks], marker="o", label=op)
    ks = sorted(triad)
    ax.plot(ks, [triad[k] for k in ks], "k--", label="STREAM triad (same run)")
    ax.set_xticks(ks)
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("effective GB/s (16 B per element)")
    ax.set_title("stencil operators, float64 volume")
    ax.legend(fontsize=8)
    for ranks, pts in sorted(halo.items()):
        ks = sorted(pts)
        bx.loglog(ks, [pts[k] for k in ks], marker="o", label=f"{ranks} ranks")
    bx.set_xlabel("ghost slab (bytes per neighbour)")
    bx.set_ylabel("µs per application")
    bx.set_title("halo exchange (FirstDerivative along the split axis)")
    bx.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print("wrote", out)

if __name__ == "__main__":
    main()
