#!/usr/bin/python3
"""Plot bench/run_progress_busy.sh's CSVs: left, when a transfer's end is noticed while every
worker runs a 20 ms task (per backend and progress-thread interval, against the raw transfer);
right, CGLS time per iteration with the thread off and on (median of the runs).
Usage: BUILD/starlops-python plot_progress_busy.py progress.csv progress_cgls.csv [out.png]"""
import csv
import statistics
import sys


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    cg = list(csv.DictReader(open(sys.argv[2])))
    out = sys.argv[3] if len(sys.argv) > 3 else "progress_busy.png"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5))
    for key in sorted({(r["backend"], int(r["progress_us"])) for r in rows}):
        sel = [r for r in rows if (r["backend"], int(r["progress_us"])) == key]
        x = [int(r["bytes"]) for r in sel]
        y = [1e3 * max(float(r["notice_recv_s"]), float(r["notice_send_s"]), 0) for r in sel]
        label = f'{key[0]}, thread {"off" if key[1] == 0 else f"{key[1]} us"}'
        a.plot(x, y, marker="o", label=label)
    raw = sorted({(int(r["bytes"]), float(r["raw_two_sided_s"])) for r in rows})
    sizes = sorted({b for b, _ in raw})
    a.plot(sizes, [1e3 * statistics.median([t for b, t in raw if b == s]) for s in sizes],
           "k--", label="raw two-sided transfer")
    busy = 1e3 * float(rows[0]["busy_s"])
    a.axhline(busy, color="grey", lw=0.8)
    a.text(sizes[0], busy * 1.1, "busy task", color="grey")
    a.set_xscale("log", base=2)
    a.set_yscale("log")
    a.set_xlabel("message bytes")
    a.set_ylabel("end of transfer noticed, ms after the busy task started")
    a.set_title("completion while every worker is busy (2 ranks)")
    a.legend(fontsize=8)
    cases = sorted({(r["kind"], r["n"], r["k"], r["backend"]) for r in cg})
    width = 0.4
    for i, pu in enumerate(sorted({int(r["progress_us"]) for r in cg})):
        med = [1e3 * statistics.median(float(r["seconds_per_iteration"]) for r in cg
                                       if (r["kind"], r["n"], r["k"], r["backend"]) == c
                                       and int(r["progress_us"]) == pu) for c in cases]
        b.bar([j + i * width for j in range(len(cases))], med, width,
              label=f'thread {"off" if pu == 0 else f"{pu} us"}')
    b.set_xticks([j + width / 2 for j in range(len(cases))])
    b.set_xticklabels([f"{k} {n}x{m}\n{be}" for k, n, m, be in cases], fontsize=8)
    b.set_ylabel("ms per CGLS iteration (median)")
    b.set_title("what the thread costs when no task is long")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
