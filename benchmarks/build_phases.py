"""Time a full offline build (README's first command) phase by phase, and its peak memory.

Usage: uv run python benchmarks/build_phases.py [--cassette csv2xlsx-gui] [--keep]

Prints the wall time of each node (from events.jsonl), the total, and the peak resident
memory of the MultiCoder process (the generated app's tools run in child processes and are
reported separately).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cassette", default="csv2xlsx-gui", help="cassette and task name")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    env = dict(os.environ, MULTICODER_DATA_DIR=str(data), MULTICODER_CONFIG=str(data / "none"),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    command = [sys.executable, "-m", "ui.cli", "build", "--spec-file",
               f"datasets/tasks/{args.cassette}.md", "--replay", args.cassette, "--auto-approve"]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False)
    total = time.perf_counter() - start
    peak_children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run_dir = next((data / "runs").iterdir())
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines() if x]
    per_node: dict[str, list[float]] = {}
    for event in events:
        if event["type"] == "node_finished":
            per_node.setdefault(event["node"], []).append(event["duration_ms"] / 1000)
    print(f"exit code {result.returncode}; run {run_dir.name}")
    print(f"{'node':<18}{'runs':>5}{'seconds':>9}")
    for node, times in per_node.items():
        print(f"{node:<18}{len(times):>5}{sum(times):>9.1f}")
    print(f"{'total (wall)':<18}{total:>9.1f}")
    print(f"peak RSS of the largest child process: {peak_children_mb:.0f} MB")
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)
    else:
        print(f"kept {data}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
