#!/usr/bin/python3
"""Idle gaps of each worker inside solver iterations, from a trace converted by starlops-trace
(tasks.csv). A gap is the time between two consecutive tasks of one worker that both belong to
the same iteration (StarPU's Iteration field, set by starpu_iteration_push in the solvers),
so the host's work between solves does not count. Consecutive solves reuse iteration numbers:
a gap after `norm_finish` (the last task of a solve) is the host's time between solves and is
left out too. Whether the worker had a task ready during a gap is not in the trace: look at
the Gantt (what the gap waits for) before calling it a scheduling problem.
Usage: BUILD/starlops-python trace_gaps.py TRACE_DIR [threshold_ms]"""
import csv
import os
import statistics
import sys


def main():
    d = sys.argv[1]
    threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    rows = [r for r in csv.DictReader(open(os.path.join(d, "tasks.csv")))
            if r["StartTime"] and r["WorkerId"]]
    workers = {}
    for r in rows:
        workers.setdefault((r["MPIRank"], r["WorkerId"]), []).append(
            (float(r["StartTime"]), float(r["EndTime"]), r["Name"], r["Iteration"]))
    worst = 0.0
    for (rank, worker), tasks in sorted(workers.items()):
        tasks.sort()
        gaps = [(b[0] - a[1], a[2], b[2]) for a, b in zip(tasks, tasks[1:])
                if a[3] and b[3] and a[3] == b[3] and a[2] != "norm_finish"]
        if not gaps:
            continue
        g = sorted(gaps, reverse=True)
        worst = max(worst, g[0][0])
        over = [x for x in g if x[0] > threshold]
        print(f"rank {rank} worker {worker}: {len(tasks)} tasks, max gap {g[0][0]:.3f} ms "
              f"({g[0][1]} -> {g[0][2]}), median {statistics.median(x[0] for x in g):.4f} ms, "
              f"{len(over)} gaps > {threshold} ms")
    print(f"largest idle gap inside an iteration: {worst:.3f} ms")


if __name__ == "__main__":
    main()
