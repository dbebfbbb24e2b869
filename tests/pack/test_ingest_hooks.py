"""exchange_pack.ingest_hooks: the hook's parameters from the manifest and the first-run time
(pure logic; the hooks run against the sandbox in tests/platforms)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from exchange_pack.fields import input_fields
from exchange_pack.ingest_hooks import (
    SEVERITY,
    HookFailed,
    first_run_time,
    hook_fields,
    incident_field_names,
    ingestion_spec,
    run_ingest,
)
from exchange_pack.manifest import load_manifest

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def test_the_manifest_names_the_ingestion_action_and_its_checkpoint() -> None:
    spec = ingestion_spec(load_manifest())
    names = [f.name for f in input_fields(spec.action)]
    assert spec.checkpoint in names and spec.first_run in names


def test_hook_fields_are_the_poll_less_the_checkpoint_plus_severity() -> None:
    manifest = load_manifest()
    spec = ingestion_spec(manifest)
    fields = hook_fields(manifest)
    poll = [f.name for f in input_fields(spec.action) if f.name != spec.checkpoint]
    assert [f.name for f in fields] == [*poll, SEVERITY]
    assert fields[-1].default == "medium" and "critical" in (fields[-1].allowed or [])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("7 days", "2026-11-29T12:00:00Z"),
        ("12 hours", "2026-12-06T00:00:00Z"),
        ("1 hour ago", "2026-12-06T11:00:00Z"),
        ("2 Weeks", "2026-11-22T12:00:00Z"),
        ("30 minutes", "2026-12-06T11:30:00Z"),
        ("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z"),  # ISO stays as given
        ("soon", "soon"),  # left for the action's own check (exit 64 naming the field)
    ],
)
def test_first_run_time(given: str, expected: str) -> None:
    assert first_run_time(given, NOW) == expected


def test_incident_field_names_include_the_enrichment() -> None:
    names = incident_field_names()
    assert {"sender", "subject", "internet_message_id", "spf", "reported_sender"} <= set(names)


@pytest.mark.parametrize(
    ("params", "named"),
    [({SEVERITY: "urgent"}, "severity"), ({"checkpoint": "x"}, "checkpoint")],
)
def test_bad_hook_parameters_fail_before_any_poll(params: dict[str, str], named: str) -> None:
    with pytest.raises(HookFailed) as failed:
        run_ingest(load_manifest(), params, {}, None, source="test")
    outcome = failed.value.outcome
    assert outcome.exit_code == 64 and named in outcome.stderr
    assert outcome.envelope["error"]["category"] == "input"


def test_a_manifest_without_ingestion_gets_bundles_without_hooks(tmp_path) -> None:
    import importlib

    import yaml

    from exchange_pack.bundles import PLATFORMS
    from exchange_pack.ingest_hooks import has_ingestion
    from exchange_pack.manifest import Manifest

    document = load_manifest().model_dump()
    document.pop("ingestion")
    manifest = Manifest.model_validate(document)
    assert not has_ingestion(manifest) and has_ingestion(load_manifest())
    written: dict[str, list[str]] = {}
    for platform, module in PLATFORMS.items():
        bundle = importlib.import_module(f"exchange_pack.bundles.{module}")
        out = tmp_path / platform
        written[platform] = [p.relative_to(out).as_posix() for p in bundle.build(manifest, out)]
        section = bundle.readme_section(manifest)
        assert "Ingestion" not in section and "Fetch incidents" not in section, platform
    assert not any("daemon" in f for f in written["cloud-soar"])
    assert not any(f.startswith("sensors/") for f in written["stackstorm"])
    assert "on_poll" not in (tmp_path / "splunk-soar" / "src" / "app.py").read_text()
    [yml] = [f for f in written["xsoar"] if f.endswith("ExchangePack.yml")]
    document = yaml.safe_load((tmp_path / "xsoar" / yml).read_text())
    assert document["script"]["isfetch"] is False
    assert not any(p["name"] == "isFetch" for p in document["configuration"])
