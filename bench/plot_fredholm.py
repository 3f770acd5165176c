#!/usr/bin/python3
"""Plot bench/fredholm CSV: Fredholm1 forward + adjoint Gflop/s next to OpenBLAS's batched
gemm/gemv on the same local slices, per configuration and rank count, and print the table of
bench/results/README.md. Each figure is the median over the runs in the file (every run being
itself the median of 7 alternating operator / reference pairs).
Usage: BUILD/starlops-python plot_fredholm.py fredholm_bench.csv [out.png]   (needs matplotlib)"""
import csv
import statistics
import sys

FIELDS = ("gflops", "ref_gflops", "fraction", "cpu_fraction")


def aggregate(rows):
    """One entry per (configuration, ranks): the median of each figure over the runs."""
    groups = {}
    for r in rows:
        key = (r.get("layout") or "slices", r["dtype"], int(r["nsl"]), int(r["nx"]),
               int(r["ny"]), int(r["nz"]), int(r["saveGt"]), int(r["ranks"]))
        groups.setdefault(key, []).append(r)
    out = []
    for key in sorted(groups):
        runs = groups[key]
        entry = dict(zip(("layout", "dtype", "nsl", "nx", "ny", "nz", "saveGt", "ranks"), key))
        for f in FIELDS:
            entry[f] = statistics.median(float(r[f]) for r in runs)
        entry["runs"] = len(runs)
        out.append(entry)
    return out


def print_table(entries):
    print("| layout | dtype | (nsl, nx, ny) | nz | saveGt | ranks | Fredholm1 Gflop/s | batched BLAS "
          "Gflop/s | fraction (wall) | fraction (CPU time) | runs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for e in entries:
        print(f'| {e["layout"]} | {e["dtype"]} | ({e["nsl"]}, {e["nx"]}, {e["ny"]}) | {e["nz"]} | {e["saveGt"]} '
              f'| {e["ranks"]} | {e["gflops"]:.2f} | {e["ref_gflops"]:.2f} '
              f'| {100 * e["fraction"]:.0f}% | {100 * e["cpu_fraction"]:.0f}% | {e["runs"]} |')


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "fredholm_bench.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else "fredholm_bench.png"
    entries = aggregate(list(csv.DictReader(open(path))))
    print_table(entries)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f'{e["layout"]} {e["dtype"]}\n({e["nsl"]},{e["nx"]},{e["ny"]})\nnz={e["nz"]} '
              f'saveGt={e["saveGt"]}\n{e["ranks"]} rank(s)' for e in entries]
    xs = range(len(entries))
    fig, ax = plt.subplots(figsize=(max(8, 0.8 * len(entries)), 5))
    ax.bar([x - 0.2 for x in xs], [e["gflops"] for e in entries], width=0.4,
           label="Fredholm1 forward + adjoint (starlops)")
    ax.bar([x + 0.2 for x in xs], [e["ref_gflops"] for e in entries], width=0.4,
           label="batched gemm / gemv (OpenBLAS, same slices)")
    for x, e in zip(xs, entries):
        ax.annotate(f'{100 * e["fraction"]:.0f}%\n{100 * e["cpu_fraction"]:.0f}%',
                    (x, max(e["gflops"], e["ref_gflops"])), ha="center", va="bottom",
                    fontsize=6)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=6)
    ax.set_ylabel("Gflop/s (all ranks)")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("bench/fredholm: medians; labels: fraction of wall time / of CPU time "
                 "(2 shared cores, one StarPU worker per rank)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print("wrote", out)


if __name__ == "__main__":
    main()
