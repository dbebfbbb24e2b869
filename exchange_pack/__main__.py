"""``python -m exchange_pack``: the ``exchange-pack`` command."""

import sys

from .cli import main

sys.exit(main())
