"""Build hook: the pack's manifest, schemas, action scripts and logos ship inside the package.

``integration.yaml``, ``schemas/``, ``actions/`` and ``logos/`` stay at the top of the checkout
(the layout the design names); a build copies them into ``exchange_pack/_pack/`` of the wheel,
where :func:`exchange_pack.manifest.pack_root` finds them through ``importlib.resources``.
There is never a second copy in the source tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PACK_FILES = ("integration.yaml", "CHANGELOG.md", "schemas/*.json", "actions/*.py", "logos/*")
PACKAGED_AS = Path("exchange_pack") / "_pack"


def pack_files(root: Path) -> list[Path]:
    """The top-level files that make the pack, relative to ``root``."""
    found: list[Path] = []
    for pattern in PACK_FILES:
        found.extend(sorted(p.relative_to(root) for p in root.glob(pattern) if p.is_file()))
    return found


class BuildWithPackData(build_py):
    """``build_py`` that also copies the pack's top-level files into ``exchange_pack/_pack``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout itself
        for relative in pack_files(HERE):
            target = Path(self.build_lib) / PACKAGED_AS / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / relative, target)


setup(cmdclass={"build_py": BuildWithPackData})
