"""``make bench``: run the benchmark suites and print their markdown sections.

    python -m benchmarks                 # every suite
    python -m benchmarks fileserver      # one suite

Each suite is a module of this package with ``run() -> str``. Figures are
ratios against a baseline measured in the same run on the same machine; copy
the printed sections into docs/benchmarks.md with the command that made them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

SUITES = (
    "fileserver",
    "feedback",
    "feedback_pod",
    "feedback_postgres",
    "pod",
    "backup",
    "operator",
)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("suites", nargs="*", help=f"suites to run (default: {', '.join(SUITES)})")
    args = parser.parse_args()
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        parser.error(
            f"unknown suite(s): {', '.join(sorted(unknown))}; choose from {', '.join(SUITES)}"
        )
    failed = False
    for name in args.suites or SUITES:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError:
            print(f"## {name}\n\n(no benchmark suite yet)\n")
            continue
        started = time.monotonic()
        try:
            print(module.run())
        except Exception as error:  # a failed suite must not hide the others' figures
            failed = True
            print(f"## {name}\n\nFAILED: {error!r}\n", file=sys.stderr)
        print(f"_(suite {name} took {time.monotonic() - started:.0f} s)_\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
