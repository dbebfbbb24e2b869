"""``python -m exchange_pack``: the ``exchange-pack`` command."""

from .cli import main
from .runtime import exit_process

exit_process(main())
