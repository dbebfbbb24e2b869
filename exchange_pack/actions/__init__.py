"""Shared machinery of the 13 actions: safe output files, message targets, EML headers, and
the shaping of backend models into each action's ``data``.

The scripts in ``actions/`` stay thin: they parse parameters, call one function here or one
backend method, and return an ``ActionResult``.
"""

from collections.abc import Callable

Progress = Callable[[int, int, str], None]  # ActionContext.progress(done, total, text)
Warn = Callable[[str], None]  # ActionContext.warn(text)
