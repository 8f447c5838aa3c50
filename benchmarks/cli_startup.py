"""How long `multicoder` takes to start (median of N runs of `--help` and `runs list`).

Usage: uv run python benchmarks/cli_startup.py [-n 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str], env: dict[str, str], n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=ROOT, env=env,
                       capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="runs per command")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, MULTICODER_DATA_DIR=data, MULTICODER_CONFIG=f"{data}/none")
        for args in (["--help"], ["runs", "list"]):
            times = timed(args, env, n)
            print(f"multicoder {' '.join(args):<12} median {statistics.median(times):.2f} s"
                  f"  (min {min(times):.2f}, max {max(times):.2f}, n={n})")


if __name__ == "__main__":
    main()
