"""Load benchmark: python bench/load.py [--only NAME ...] [--quick].

Scenarios (each prints its figures as ratios against a reference measured in the same run):

  uploads      200 concurrent uploads of a small valid image by 50 participants (quota 3 a
               day each) against the production configuration: 5xx count, admitted vs quota,
               every admitted submission reaching a final state.
  big-uploads  20 concurrent uploads of a 438 MB image against `python app.py`.
  leaderboard  10,000 scored entries, production configuration: JSON and HTML pages against
               a static file of the same size from the same server (wrk), while results keep
               landing; and how long a landed result takes to show.
  resumable    a 1 GiB image in 8 MiB chunks against one request (gunicorn + S3), and again
               cut half way through a chunk and resumed: time ratios, bytes sent twice.
  huge-upload  one 5 GiB upload on both servers against `cp` of the same file; the web
               process's peak memory.
  burst        20 runs queued at once on `python app.py` against 20 sequential bare
               `docker run`s of the same image.

Traffic goes to 127.0.0.1 only, is bounded in count and time, and stops by itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_scenarios import SCENARIOS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(SCENARIOS), help="scenarios to run")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    args = parser.parse_args()
    for name in args.only or list(SCENARIOS):
        started = time.monotonic()
        print(f"== {name}", flush=True)
        for line in SCENARIOS[name](quick=args.quick):
            print(f"  {line}", flush=True)
        print(f"  ({time.monotonic() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
