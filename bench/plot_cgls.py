#!/usr/bin/python3
"""Plot bench/cgls_matrixmult CSV: ms per CGLS iteration next to the dgemv + dgemv^T floor,
per problem size and rank count.
Usage: BUILD/starlops-python plot_cgls.py cgls_matrixmult_bench.csv [out.png]   (needs matplotlib)"""
import csv
import sys


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "cgls_matrixmult_bench.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else "cgls_matrixmult_bench.png"
    rows = list(csv.DictReader(open(path)))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    # older files have no kind/backend columns: the 1D kind over mpi
    labels = [f'{r["n"]}x{r["k"]}\n{r["ranks"]} rank(s)\n{r.get("kind") or "row"}/'
              f'{r.get("backend") or "mpi"}' for r in rows]
    it = [1e3 * float(r["seconds_per_iteration"]) for r in rows]
    fl = [1e3 * float(r["floor_seconds"]) for r in rows]
    xs = range(len(rows))
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(rows)), 4.5))
    ax.bar([x - 0.2 for x in xs], it, width=0.4, label="CGLS iteration (starlops)")
    ax.bar([x + 0.2 for x in xs], fl, width=0.4, label="floor: dgemv + dgemv^T")
    for x, a, b in zip(xs, it, fl):
        ax.annotate(f"{a / b:.2f}x", (x, max(a, b)), ha="center", va="bottom")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels)
    ax.set_ylabel("ms")
    ax.set_yscale("log")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print("wrote", out)


if __name__ == "__main__":
    main()
