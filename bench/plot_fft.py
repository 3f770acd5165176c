#!/usr/bin/python3
"""Plot bench/fft CSV: (1) sl_op_fft's speed as a fraction of a local FFTW plan of the same
block (median over runs of each run's median paired ratio), per case and axis, per rank count
and array size, with the 70% target; (2) milliseconds of both at 1 rank, per size.
Usage: BUILD/starlops-python plot_fft.py fft_bench.csv [out.png]   (needs matplotlib)"""
import csv
import statistics
import sys
from collections import defaultdict

def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "fft_bench.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else "fft_bench.png"
    runs = defaultdict(list)
    for r in csv.DictReader(open(path)):
        size = f"{r['n0']}x{r['n1']}x{r['n2']}"
        runs[(int(r["ranks"]), size, r["case"], int(r["axis"]))].append(r)
    med = {k: {f: statistics.median(float(r[f]) for r in v)
               for f in ("fraction", "seconds", "fftw_seconds")} for k, v in runs.items()}
    series = sorted({k[:2] for k in med})
    cases = sorted({k[2] for k in med})
    short = {"c2c_complex128": "c2c", "c2c_complex128_ortho": "c2c ortho",
             "r2c_float64": "r2c f64"}
    labels = [f"{short.get(c, c)}\naxis {a}" for c in cases for a in range(3)]
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(15, 4.8))
    width = 0.8 / len(series)
    for i, (p, size) in enumerate(series):
        xs = [j + i * width for j in range(len(labels))]
        ys = [100 * med.get((p, size, c, a), {}).get("fraction", 0)
              for c in cases for a in range(3)]
        ax.bar(xs, ys, width, label=f"{p} rank{'s' if p > 1 else ''}, {size}")
    ax.axhline(70, color="k", ls="--", label="target 70% (1 rank)")
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(labels))])
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("FFTW time / sl_op_fft time (%)")
    ax.set_title("sl_op_fft vs local FFTW (c2c: complex128), split along axis 0")
    ax.legend(fontsize=7)
    xs = range(len(labels))
    for p, size in series:
        if p != 1:
            continue
        for f, name, style in (("seconds", "sl_op_fft", "-o"), ("fftw_seconds", "FFTW", "--s")):
            bx.plot(xs, [1e3 * med.get((1, size, c, a), {}).get(f, 0)
                         for c in cases for a in range(3)], style, label=f"{name}, {size}")
    bx.set_xticks(list(xs))
    bx.set_xticklabels(labels, fontsize=7)
    bx.set_ylabel("ms per transform (median)")
    bx.set_title("1 rank")
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print("wrote", out)

if __name__ == "__main__":
    main()
