"""``python -m exchange_sandbox``: the same as the ``exchange-sandbox`` command."""

import sys

from .cli import main

sys.exit(main())
