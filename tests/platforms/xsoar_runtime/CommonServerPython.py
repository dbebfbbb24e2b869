"""Stand-in for XSOAR's ``CommonServerPython``: the functions an integration returns with.

As XSOAR documents them: ``return_results`` hands a string, an entry dict or a list of entries
to ``demisto.results``; ``return_error`` hands an error entry (``Type`` 4, text) to it and ends
the script with ``sys.exit(0)``; ``fileResult`` stores a file for the war room and returns its
file entry (``Type`` 3, ``File``, ``FileID``).
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import demistomock as demisto

entryTypes = {"note": 1, "file": 3, "error": 4, "warning": 11}
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


def fileResult(filename: str, data: str | bytes, file_type: int | None = None) -> dict[str, Any]:
    file_id = str(uuid.uuid4())
    demisto.files[file_id] = data.encode("utf-8") if isinstance(data, str) else data
    return {
        "Contents": "",
        "ContentsFormat": formats["text"],
        "Type": file_type or entryTypes["file"],
        "File": filename,
        "FileID": file_id,
    }
