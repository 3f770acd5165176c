#!/usr/bin/python3
"""Plot bench/sched_sweep.sh's CSV: one panel per case, time per scheduler, one bar per rank
count. Usage: BUILD/starlops-python plot_sched.py sched.csv [out.png]   (needs python3-matplotlib)"""
import csv
import sys
from collections import defaultdict


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "sched_sweep.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else "sched_sweep.png"
    data = defaultdict(lambda: defaultdict(dict))
    for r in csv.DictReader(open(path)):
        if r["seconds"]:
            data[r["case"]][r["sched"]][int(r["ranks"])] = float(r["seconds"])
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cases = sorted(data)
    fig, axes = plt.subplots(1, len(cases), figsize=(4.5 * len(cases), 3.6), squeeze=False)
    for ax, case in zip(axes[0], cases):
        scheds = list(data[case])
        ranks = sorted({k for s in scheds for k in data[case][s]})
        width = 0.8 / max(1, len(ranks))
        for j, np_ in enumerate(ranks):
            ax.bar([i + j * width for i in range(len(scheds))],
                   [data[case][s].get(np_, 0) for s in scheds], width, label="%d rank(s)" % np_)
        ax.set_xticks([i + width * (len(ranks) - 1) / 2 for i in range(len(scheds))])
        ax.set_xticklabels(scheds)
        ax.set_title(case, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main()
