"""Stand-in for XSOAR's ``CommonServerPython``: the two functions an integration returns with.

As XSOAR documents them: ``return_results`` hands a string or an entry dict to
``demisto.results``; ``return_error`` hands an error entry (``Type`` 4, text) to it and ends
the script with ``sys.exit(0)``.
"""

from __future__ import annotations

import sys
from typing import Any

import demistomock as demisto

entryTypes = {"note": 1, "error": 4, "warning": 11}
formats = {"text": "text", "json": "json", "markdown": "markdown"}


def return_results(results: Any) -> None:
    demisto.results(results)


def return_error(message: str, error: str = "", outputs: Any = None) -> None:
    demisto.results(
        {
            "Type": entryTypes["error"],
            "ContentsFormat": formats["text"],
            "Contents": message,
            "EntryContext": outputs,
        }
    )
    sys.exit(0)
