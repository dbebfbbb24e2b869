"""A test-only action (``contract_probe``) and a throw-away pack around it.

It exercises the runtime's contract without a backend: it echoes its parameters, raises the
error class it is told to, crashes, logs, asks the token endpoint, or breaks its output schema.
``build_contract_pack`` writes a pack root (schemas, manifest, script) for
``EXCHANGE_PACK_ROOT`` so the runtime and ``exchange-pack`` load this action like a real one.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Any

from exchange_pack import errors
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, run_action

ACTION_ID = "contract_probe"
REPO_ROOT = Path(__file__).resolve().parents[2]
ERROR_CLASSES = sorted(
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.ExchangePackError)
)

INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "contract_probe parameters",
    "description": "Test-only action.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "mailbox": {"type": "string", "format": "email", "description": "A mailbox."},
        "mailboxes": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        "ratio": {"type": "number"},
        "dry_run": {"type": "boolean", "default": False},
        "delete_type": {"type": "string", "enum": ["move_to_deleted_items", "soft", "hard"]},
        "note": {"type": "string"},
        "raise": {"type": "string", "enum": ERROR_CLASSES},
        "message": {"type": "string"},
        "crash": {"type": "boolean"},
        "log": {"type": "boolean"},
        "warn": {"type": "string"},
        "progress": {"type": "boolean"},
        "token": {"type": "string", "enum": ["graph", "ews"]},
        "bad_output": {"type": "boolean"},
        "wrong_result": {"type": "boolean"},
    },
}
OUTPUT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "contract_probe data",
    "type": "object",
    "additionalProperties": False,
    "required": ["parameters"],
    "properties": {
        "parameters": {"type": "object"},
        "config": {"type": "object"},
        "token": {"type": "object"},
    },
}

log = logging.getLogger("exchange_pack.tests.contract_probe")


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Does what the parameters ask (see the module docstring)."""
    if params.get("log"):
        log.info("probe log line for %s", params.get("mailbox"))
    if params.get("warn"):
        ctx.warn(params["warn"])
    if params.get("progress"):
        ctx.progress(1, 2, "halfway")
    if params.get("raise"):
        error_class = getattr(errors, params["raise"])
        raise error_class(
            params.get("message") or f"probe raised {params['raise']}",
            hint="probe hint",
            backend_code="ProbeCode",
            retry_after_seconds=7 if error_class.retryable else None,
        )
    if params.get("crash"):
        raise RuntimeError(params.get("message") or "probe crashed")
    if params.get("wrong_result"):
        return {"not": "an ActionResult"}  # type: ignore[return-value]
    if params.get("bad_output"):
        return ActionResult(data={"unexpected": 1})
    data: dict[str, Any] = {
        "parameters": params,
        "config": {"backend": config.backend, "tenant_id": config.tenant_id, "cloud": config.cloud},
    }
    if params.get("token"):
        info = ctx.session.tokens.token_info(params["token"])
        data["token"] = info.model_dump()
    return ActionResult(data=data, message="probe ok", summary={"count": 1})


def main() -> int:
    """Runs the probe under the action contract."""
    return run_action(ACTION_ID, run)


def build_contract_pack(root: Path, version: str = "1.2.3") -> Path:
    """A pack root with the real contract schemas plus ``contract_probe``; returns ``root``."""
    schemas = root / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    for name in ("connection", "envelope", "integration"):
        shutil.copy(REPO_ROOT / "schemas" / f"{name}.json", schemas / f"{name}.json")
    (schemas / f"{ACTION_ID}.input.json").write_text(json.dumps(INPUT_SCHEMA, indent=2))
    (schemas / f"{ACTION_ID}.output.json").write_text(json.dumps(OUTPUT_SCHEMA, indent=2))
    (root / "actions").mkdir(exist_ok=True)
    shutil.copy(Path(__file__), root / "actions" / f"{ACTION_ID}.py")
    (root / "logos").mkdir(exist_ok=True)
    (root / "logos" / "probe.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "logos" / "probe.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "CHANGELOG.md").write_text(
        f"# Changelog\n\n## [Unreleased]\n\n## [{version}] - 2026-11-22\n\n- Probe.\n"
    )
    manifest = {
        "id": "contract-pack",
        "name": "Contract Pack",
        "version": version,
        "description": "Test-only pack.",
        "vendor": "Tests",
        "product": "Tests",
        "category": "Testing",
        "logos": {"svg": "logos/probe.svg", "png": "logos/probe.png"},
        "runtime": {"python": ">=3.10", "dependencies": []},
        "connection": {
            "schema": "schemas/connection.json",
            "test_action": ACTION_ID,
            "permissions": {"graph": ["Mail.Read"], "ews": ["full_access_as_app"]},
        },
        "actions": [
            {
                "id": ACTION_ID,
                "title": "Contract Probe",
                "description": "Exercises the action contract.",
                "kind": "generic",
                "read_only": True,
                "destructive": False,
                "idempotent": True,
                "script": f"actions/{ACTION_ID}.py",
                "input_schema": f"schemas/{ACTION_ID}.input.json",
                "output_schema": f"schemas/{ACTION_ID}.output.json",
                "backends": ["graph", "ews"],
                "permissions": {"graph": ["Mail.Read"], "ews": ["full_access_as_app"]},
                "table_columns": ["parameters"],
            }
        ],
    }
    (root / "integration.yaml").write_text(json.dumps(manifest, indent=2))
    return root


if __name__ == "__main__":
    sys.exit(main())
