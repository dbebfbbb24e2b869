"""``python -m exchange_pack.run ACTION [--flags]``: run one action with no checkout at hand."""

import sys

from .cli import main
from .runtime import exit_process

if __name__ == "__main__":
    exit_process(main(["run", *sys.argv[1:]]))
