"""The ``exchange-pack`` command: run an action, list actions, validate the pack, build the docs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__
from .docs import render, render_platforms, updated_platforms, updated_readme
from .errors import ConfigError, ExchangePackError, InputError
from .manifest import load_manifest, pack_root
from .runtime import exit_process, report_failure, run_action

USAGE = """exchange-pack run ACTION [--config FILE] [--verbose] [--<parameter> VALUE ...]
       exchange-pack actions [--json]
       exchange-pack validate
       exchange-pack docs [--write | --check] [--readme FILE]
       exchange-pack bundle PLATFORM|all --out DIR"""


def run_command(action_id: str, argv: Sequence[str]) -> int:
    """``exchange-pack run ACTION``: the same contract as ``python actions/ACTION.py``."""
    try:
        spec = load_manifest().action(action_id)
    except ConfigError as exc:
        error = InputError(exc.message, hint="Run `exchange-pack actions` for the list.")
        return report_failure(action_id, error)
    except ExchangePackError as exc:
        return report_failure(action_id, exc)
    return run_action(spec.id, argv=argv)


def actions_command(as_json: bool) -> int:
    """``exchange-pack actions``: every action with its kind and permissions."""
    manifest = load_manifest()
    if as_json:
        rows = [
            {"id": a.id, "kind": a.kind, "title": a.title, "permissions": a.permissions}
            for a in manifest.actions
        ]
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(a.id) for a in manifest.actions)
    for spec in manifest.actions:
        permissions = "; ".join(
            f"{backend}: {', '.join(values) or '-'}" for backend, values in spec.permissions.items()
        )
        print(f"{spec.id:<{width}}  {spec.kind:<11}  {permissions}")
    return 0


def validate_command() -> int:
    """``exchange-pack validate``: prints every disagreement; exit 1 when there is one."""
    from .pack_check import check_pack  # a maintainer's command: keeps jsonschema off the run path

    problems = check_pack()
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if problems:
        return 1
    manifest = load_manifest()
    print(f"OK {manifest.id} {manifest.version}: {len(manifest.actions)} actions agree")
    return 0


def docs_command(mode: str | None, readme: Path) -> int:
    """``exchange-pack docs``: prints, writes (``--write``) or checks (``--check``) the docs."""
    block = render(load_manifest())
    if mode is None:
        sys.stdout.write(block)
        return 0
    current = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    wanted = updated_platforms(updated_readme(current, block), render_platforms(load_manifest()))
    if mode == "check":
        if current != wanted:
            print(f"{readme} is stale: run `exchange-pack docs --write`.", file=sys.stderr)
            return 1
        print(f"{readme} is up to date.")
        return 0
    readme.write_text(wanted, encoding="utf-8")
    print(f"{readme} updated.")
    return 0


def bundle_command(platform: str, out: Path) -> int:
    """``exchange-pack bundle``: writes one platform's bundle (or every one) under ``out``."""
    from .bundles import available, build

    platforms = available() if platform == "all" else [platform]
    for name in platforms:
        target = out / name if platform == "all" else out
        written = build(name, target)
        print(f"{name}: {len(written)} files in {target}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exchange-pack", usage=USAGE)
    parser.add_argument("--version", action="version", version=f"exchange-pack {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("actions", help="list the actions")
    listing.add_argument("--json", action="store_true")
    commands.add_parser("validate", help="check manifest, schemas, scripts and changelog agree")
    docs = commands.add_parser("docs", help="the README's generated action reference")
    mode = docs.add_mutually_exclusive_group()
    mode.add_argument("--write", dest="mode", action="store_const", const="write")
    mode.add_argument("--check", dest="mode", action="store_const", const="check")
    docs.add_argument("--readme", type=Path, default=None)
    commands.add_parser("run", help="run an action (see `exchange-pack run ACTION --help`)")
    bundle = commands.add_parser("bundle", help="generate a SOAR platform's bundle")
    bundle.add_argument("platform", help="cloud-soar, xsoar, splunk-soar, stackstorm or all")
    bundle.add_argument("--out", type=Path, required=True, help="folder to write the bundle in")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``exchange-pack`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        if len(argv) < 2 or argv[1].startswith("-"):
            print(f"usage: {USAGE.splitlines()[0]}", file=sys.stderr)
            return 64
        return run_command(argv[1], argv[2:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "actions":
            return actions_command(args.json)
        if args.command == "validate":
            return validate_command()
        if args.command == "bundle":
            return bundle_command(args.platform, args.out)
        return docs_command(args.mode, args.readme or pack_root() / "README.md")
    except ExchangePackError as exc:
        print(f"ERROR {exc.code}: {exc.message}", file=sys.stderr)
        return exc.exit_code


def console() -> NoReturn:
    """The ``exchange-pack`` console script: :func:`main` in a process of its own."""
    exit_process(main())


if __name__ == "__main__":
    console()
