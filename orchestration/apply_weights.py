"""Applies the weight proposal of the last refresh: copies its scorecard_components.csv and
scorecard_measure_weights.csv over the seeds, for review as a git diff before committing.

make apply-weights            (then: git diff seeds/, make run REBUILD_HISTORY=1 to rescore with them)

The proposal is written by the weight_proposal asset beside the warehouse (<warehouse dir>/backtest/
weight_proposal). Nothing else applies it: learned weights are a proposal until a person accepts them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from orchestration.defs.dbt.project import SEEDS_DIR
from orchestration.settings import load_settings

PROPOSAL_FILES = ("scorecard_components.csv", "scorecard_measure_weights.csv")


def apply(proposal_dir: Path, seeds_dir: Path) -> list[Path]:
    """Copies the proposal's seed files over those in `seeds_dir`; refuses when one is missing or its rows
    do not match the configured ones (a proposal made for another configuration)."""
    missing = [name for name in PROPOSAL_FILES if not (proposal_dir / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"no weight proposal in {proposal_dir} (missing {', '.join(missing)}): run `make run` first; "
            "a refresh writes one when the history has enough churn to learn from"
        )
    for name in PROPOSAL_FILES:
        proposed = [line.rsplit(",", 1)[0] for line in _key_lines(proposal_dir / name)]
        configured = [line.rsplit(",", 1)[0] for line in _key_lines(seeds_dir / name)]
        if proposed != configured:
            raise ValueError(f"{proposal_dir / name} does not list the rows of {seeds_dir / name}; refresh first")
    copied = []
    for name in PROPOSAL_FILES:
        shutil.copyfile(proposal_dir / name, seeds_dir / name)
        copied.append(seeds_dir / name)
    return copied


def _key_lines(path: Path) -> list[str]:
    """scorecard,component-or-measure,weight of each row (the description is left aside)."""
    return [",".join(line.split(",", 3)[:3]) for line in path.read_text().splitlines()[1:]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="seed directory to update (default seeds/)")
    args = parser.parse_args(argv)
    proposal_dir = load_settings().warehouse_path.parent / "backtest" / "weight_proposal"
    try:
        copied = apply(proposal_dir, args.seeds)
    except (FileNotFoundError, ValueError) as error:
        print(f"apply-weights: {error}", file=sys.stderr)
        return 2
    for path in copied:
        print(f"updated {path}")
    print("Review with `git diff seeds/`; `make run REBUILD_HISTORY=1` rescores the history with the new weights.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
