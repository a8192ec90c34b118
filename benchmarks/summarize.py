"""Summarises the RUN lines of scripts/compare-lightning.sh (standard library only).

    python3 summarize.py runs.txt

Each input line is `RUN impl=<impl> bs=<n> key=value ...`, with `process_s=<x>` added by the script. Prints a table
per batch size and implementation (medians, with ranges for steps/s and test MSE), then
`RESULT bs=<n> ours_vs_lightning=<r> ours_vs_plain_torch=<r>` (ratios of the median steps/s; `n/a` when a side did
not run) and `RESULT startup_s=<ours> <lightning>` (medians over all runs).
"""

import statistics
import sys

NAMES = {"ours": "djl-lightning Trainer", "lightning": "PyTorch Lightning", "torch": "plain PyTorch loop"}


def parse(path):
    runs = []
    with open(path) as f:
        for line in f:
            if line.startswith("RUN "):
                fields = dict(item.split("=", 1) for item in line.split()[1:])
                runs.append({k: (v if k == "impl" else float(v)) for k, v in fields.items()})
    return runs


def median(runs, key):
    return statistics.median(r[key] for r in runs) if runs else None


def main():
    runs = parse(sys.argv[1])
    sizes = sorted({int(r["bs"]) for r in runs})
    impls = [i for i in ("ours", "lightning", "torch") if any(r["impl"] == i for r in runs)]
    header = (f"{'bs':>4} {'implementation':<22} {'runs':>4} {'steps':>6} {'steps/s median [min-max]':>26} "
              f"{'process s':>9} {'peak RSS MB':>11} {'startup s':>9} {'test MSE median [min-max]':>27}")
    print(header)
    print("-" * len(header))
    for bs in sizes:
        for impl in impls:
            rs = [r for r in runs if r["impl"] == impl and int(r["bs"]) == bs]
            if not rs:
                continue
            sps = [r["steps_per_s"] for r in rs]
            mse = [r["test_mse"] for r in rs]
            print(f"{bs:>4} {NAMES[impl]:<22} {len(rs):>4} {int(median(rs, 'steps')):>6} "
                  f"{f'{statistics.median(sps):.1f} [{min(sps):.1f}-{max(sps):.1f}]':>26} "
                  f"{median(rs, 'process_s'):>9.2f} {median(rs, 'peak_rss_mb'):>11.1f} "
                  f"{median(rs, 'startup_s'):>9.2f} "
                  f"{f'{statistics.median(mse):.5f} [{min(mse):.5f}-{max(mse):.5f}]':>27}")
    print()
    for bs in sizes:
        speed = {i: median([r for r in runs if r["impl"] == i and int(r["bs"]) == bs], "steps_per_s") for i in impls}

        def ratio(other):
            if speed.get("ours") is None or speed.get(other) is None:
                return "n/a"
            return f"{speed['ours'] / speed[other]:.2f}"

        print(f"RESULT bs={bs} ours_vs_lightning={ratio('lightning')} ours_vs_plain_torch={ratio('torch')}")
    startup = {i: median([r for r in runs if r["impl"] == i], "startup_s") for i in ("ours", "lightning")}
    print("RESULT startup_s=" + " ".join("n/a" if startup[i] is None else f"{startup[i]:.2f}"
                                        for i in ("ours", "lightning")))


if __name__ == "__main__":
    main()
