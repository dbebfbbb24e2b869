"""``python -m exchange_pack.run ACTION [--flags]``: run one action with no checkout at hand."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
