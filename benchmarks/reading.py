"""Reading music where people wait: each figure a fresh process, caches cold or warm.

    python -m benchmarks.speed --reading

* Metheny cold: ``jazz-lstm corpus --data original_metheny.mid`` in a
  fresh Python with an empty song cache (``JAZZ_LSTM_CACHE``) and an empty
  Numba cache (``NUMBA_CACHE_DIR``): what a new user waits for.
* WJazzD cold / warm: ``jazz_lstm.corpus.read_songs`` of the 410-solo
  folder in a fresh Python, with an empty cache, then with the cache that
  run wrote.

Wall times include starting Python and importing; each repeat uses new
empty folders, and the three take turns.  Also measured: the reading alone
inside the process (for files per second per core) and the bytes each
cache holds afterwards.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"   # beside the repository, never inside it
METHENY = DATA / "original_metheny.mid"
WJAZZD = DATA / "wjazzd"

# Each prints {"read_seconds": ..., "songs": ...} as its last line.
_METHENY_CORPUS = """
import json, sys, time
start = time.perf_counter()
from jazz_lstm import cli
cli.main(["corpus", "--data", sys.argv[1]])
print(json.dumps({"read_seconds": time.perf_counter() - start, "songs": 1}))
"""
_READ_WJAZZD = """
import json, sys, time
start = time.perf_counter()
from jazz_lstm.corpus import read_songs
songs = read_songs([sys.argv[1]])
print(json.dumps({"read_seconds": time.perf_counter() - start, "songs": len(songs)}))
"""


def folder_bytes(folder: Path) -> int:
    return sum(file.stat().st_size for file in Path(folder).rglob("*") if file.is_file())


def timed_process(script: str, argument, cache: Path) -> dict:
    """Wall seconds of a fresh Python running ``script`` with its caches in
    ``cache``, with what the script reported."""
    env = {**os.environ, "JAZZ_LSTM_CACHE": str(cache / "songs"),
           "NUMBA_CACHE_DIR": str(cache / "numba"), "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, str(argument)], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"reading {argument} failed: {out.stderr.strip().splitlines()[-1:]}")
    return {"wall_seconds": wall, **json.loads(out.stdout.strip().splitlines()[-1]),
            "cache_bytes": folder_bytes(cache / "songs")}


def reading_times(repeats: int = 3, metheny: Path = METHENY, wjazzd: Path = WJAZZD) -> dict:
    """{figure: {"median", "min", "max" wall seconds, "read_seconds" (median
    inside the process), "songs", "cache_bytes"}} for "metheny cold",
    "wjazzd cold" and "wjazzd warm"; a figure whose data is absent is left out."""
    runs = {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
            if Path(metheny).exists():
                runs.setdefault("metheny cold", []).append(
                    timed_process(_METHENY_CORPUS, metheny, Path(first)))
            if Path(wjazzd).is_dir():
                for figure in ("wjazzd cold", "wjazzd warm"):
                    runs.setdefault(figure, []).append(
                        timed_process(_READ_WJAZZD, wjazzd, Path(second)))
    return {figure: {"median": statistics.median(run["wall_seconds"] for run in figure_runs),
                     "min": min(run["wall_seconds"] for run in figure_runs),
                     "max": max(run["wall_seconds"] for run in figure_runs),
                     "read_seconds": statistics.median(run["read_seconds"] for run in figure_runs),
                     "songs": figure_runs[0]["songs"],
                     "cache_bytes": figure_runs[0]["cache_bytes"], "runs": len(figure_runs)}
            for figure, figure_runs in runs.items()}


def print_reading(figures: dict) -> None:
    print("reading, fresh processes (wall seconds, Python start-up and imports included):")
    for figure, stat in figures.items():
        print(f"  {figure:<13} median {stat['median']:6.2f} s   min-max "
              f"{stat['min']:.2f}-{stat['max']:.2f}   inside the process "
              f"{stat['read_seconds']:.2f} s   {stat['songs']} song(s)   cache "
              f"{stat['cache_bytes'] / 1e6:.2f} MB   ({stat['runs']} runs)")
