"""python -m evaluator [--task TASK_FILE] --predictions P --ground-truth G [--bootstrap N] ...

Prints the result JSON on stdout. Invalid input: the reasons on stderr and exit status 2.
The task file (YAML or JSON, see evaluator.task) declares the labels, the positive group and
the metrics; without one the labels are those in the ground truth and the binary truth is
its `malignant` column.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from evaluator.bootstrap import DEFAULT_RESAMPLES
from evaluator.ground_truth import GroundTruthError
from evaluator.scoring import evaluate_files
from evaluator.task import TaskError, read_task
from evaluator.validation import PredictionError

EXIT_INVALID = 2  # same status argparse uses for a bad command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluator", description="Score predictions against ground truth."
    )
    parser.add_argument("--task", help="task file (YAML or JSON): labels, positive, metrics")
    parser.add_argument("--predictions", required=True, help="predictions.json")
    parser.add_argument("--ground-truth", required=True, help="ground-truth CSV")
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_RESAMPLES, help="resamples")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--confidence", type=float, default=0.95, help="CI level")
    args = parser.parse_args(argv)
    if args.bootstrap < 0 or not 0.0 < args.confidence < 1.0:
        parser.error("--bootstrap must be >= 0 and --confidence between 0 and 1")
    try:
        task = read_task(args.task) if args.task else None
        result = evaluate_files(
            args.predictions,
            args.ground_truth,
            task,
            n_bootstrap=args.bootstrap,
            seed=args.seed,
            confidence=args.confidence,
        )
    except (TaskError, GroundTruthError, PredictionError) as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    json.dump(result, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
