"""`make bench`: every benchmark in bench/, each printing its own figures, then a short summary.

`--quick` passes through to the scale benchmark (20-second windows instead of 2 minutes). The scale
benchmark's 2,000-, 20,000- and 50,000-monitor runs alone take about 7 minutes with 60-second windows
(`bench/scale_bench.py --only 2k,20k,50k --window 60`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# bench/ is not a package: its modules are imported from the path set above.
import amplification_bench
import mail_bench
import memory_profile
import render_bench
import scale_bench
import scaleout_bench
import support_bench
import uptime_bench
import worker_bench


def main(argv: list[str] | None = None) -> None:
    """Run the uptime, render, support, subscriber-mail, amplification and scale benchmarks in turn."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short scale-benchmark windows (smoke run)")
    args, rest = parser.parse_known_args(argv)
    started = time.monotonic()
    results: dict[str, Any] = {}
    print(f"== uptime (machine: {os.cpu_count()} cores)", flush=True)
    results["uptime"] = uptime_bench.main()
    print("\n== render", flush=True)
    results["render"] = render_bench.main()
    print("\n== support", flush=True)
    results["support"] = support_bench.main([])
    print("\n== subscriber mail", flush=True)
    results["mail"] = mail_bench.main([])
    print("\n== amplification (1,500 long incidents, 20 feed readers)", flush=True)
    results["amplification"] = amplification_bench.main([])
    print("\n== memory per monitor (tracemalloc)", flush=True)
    counts = "5000" if args.quick else "5000,20000"
    results["memory"] = memory_profile.main(["--monitors", counts, "--top", "8"])
    print("\n== render worker (steady renders: its CPU per render and peak RSS)", flush=True)
    worker_counts = "2000" if args.quick else "2000,50000"
    results["worker"] = worker_bench.main(["--monitors", worker_counts, "--renders", "3"])
    print("\n== scale", flush=True)
    results["scale"] = scale_bench.main((["--quick"] if args.quick else []) + rest)
    print("\n== scale-out (50,000 monitors, two instances, one PostgreSQL)", flush=True)
    results["scaleout"] = scaleout_bench.main(["--window", "20" if args.quick else "60"])
    print(f"\nall benchmarks took {(time.monotonic() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
