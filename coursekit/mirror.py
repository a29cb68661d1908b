"""Fill a folder with every dataset, verified, in the mirror layout: a classroom's ``COURSEKIT_MIRROR``.

    python -m coursekit.mirror /srv/coursekit-mirror                # every dataset
    python -m coursekit.mirror /srv/coursekit-mirror --only ml-100k ptb
    python -m coursekit.mirror /srv/coursekit-mirror --only resnet18-imagenet   # optional: notebook 10's ImageNet weights

Run it where the datasets can be had (internet, or an existing mirror in ``COURSEKIT_MIRROR``).
Each file goes through ``coursekit.data.fetch`` (cache, mirror or network; SHA-256 checked) and is
copied with a second check. Exit status 1 names any dataset it could not get. State Farm is not
copied: Kaggle's rules have each learner download it (see ``coursekit.statefarm``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data import DATASETS, MIRROR_ENV, WEIGHTS, build_mirror


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.mirror", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="folder to fill (created if needed); then set COURSEKIT_MIRROR to it")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"only these: {', '.join([*DATASETS, *WEIGHTS])} (the weights only when named)")
    args = parser.parse_args(argv)
    try:
        results = build_mirror(args.dir, args.only)
    except ValueError as err:
        parser.error(str(err))
    width = max(map(len, results))
    for name, result in results.items():
        print(f"{name:<{width}}  {result}")
    print("statefarm: not copied (Kaggle's rules: each learner downloads it; see coursekit.statefarm)")
    failed = [name for name, result in results.items() if result.startswith("FAILED")]
    if failed:
        print(f"{len(failed)} dataset(s) missing from the mirror: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"Done: set {MIRROR_ENV}={Path(args.dir).expanduser().resolve()} on the class's machines.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
