"""The phishing-response playbook that ``make demo`` runs against the sandbox tenant: it
starts from a poll of the reporting mailbox, as an automation engine's ingestion would.

Each step runs one action as its own process with the stdin contract, exactly as a SOAR
automation engine would, and prints the action's display table (``table_columns`` in
``integration.yaml``). Usage: ``python demo/playbook.py [--backend graph|ews] [--output DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import yaml

from exchange_pack.ingest import incidents_from
from exchange_sandbox.process import CA_ENV_VARS, start_sandbox

ROOT = Path(__file__).resolve().parents[1]
SOC = "soc@contoso.com"
REPORTS = "phish-report@contoso.com"  # the shared mailbox users report phishing to
REPORTS_SINCE = "2026-11-20T00:00:00Z"  # the demo seed's reports arrived that day


class StepFailed(Exception):
    pass


class Playbook:
    """Runs actions as subprocesses and renders their results."""

    def __init__(self, config: dict[str, Any], output_dir: Path) -> None:
        self.config = config
        self.output_dir = output_dir
        manifest = yaml.safe_load((ROOT / "integration.yaml").read_text(encoding="utf-8"))
        self.columns = {a["id"]: a.get("table_columns", []) for a in manifest["actions"]}
        self.env = {k: v for k, v in os.environ.items() if k not in CA_ENV_VARS}
        self.step = 0

    def run(self, action: str, title: str, **parameters: Any) -> dict[str, Any]:
        """One action process: stdin JSON in, one envelope out; a failed step stops the run."""
        self.step += 1
        document = json.dumps({"config": self.config, "parameters": parameters})
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(ROOT / "actions" / f"{action}.py")],
            input=document,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            check=False,
        )
        elapsed = time.perf_counter() - started
        envelope = json.loads(proc.stdout) if proc.stdout.strip() else {}
        meta = envelope.get("meta", {})
        print(f"\n== Step {self.step}: {title}")
        print(
            f"   {action}  exit {proc.returncode}  {elapsed:.2f}s  "
            f"{meta.get('requests', '?')} requests  [{meta.get('backend', '?')}]"
        )
        if proc.returncode != 0 or not envelope.get("ok"):
            error = envelope.get("error", {})
            print(
                f"   FAILED: {error.get('code')}: {error.get('message')}  ({proc.stderr.strip()})"
            )
            raise StepFailed(action)
        print("   " + envelope.get("message", ""))
        for warning in envelope.get("warnings", []):
            print(f"   warning: {warning}")
        print(textwrap.indent(render_table(envelope["data"], self.columns[action]), "   "))
        return envelope["data"]


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def render_table(data: dict[str, Any], columns: list[str]) -> str:
    """Rows from ``list[].field`` columns (one per list item), or one row of plain paths."""
    if not columns:
        return ""
    list_name = next((c.split("[]")[0] for c in columns if "[]." in c), None)
    items = (data.get(list_name) or []) if list_name else [data]
    headers = [c.split("[].", 1)[-1] for c in columns]
    rows = []
    for item in items:
        row = []
        for column in columns:
            value = _get(item, column.split("[].", 1)[1]) if "[]." in column else _get(data, column)
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            text = "" if value is None else str(value)
            row.append(text if len(text) <= 48 else text[:45] + "...")
        rows.append(row)
    if not rows:
        return "(no rows)"
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, rule, *body])


def _sender(message: dict[str, Any]) -> str | None:
    return next(
        (a["address"] for a in message["headers"]["addresses"] if a["header"] == "from"), None
    )


def remove_campaign(book: Playbook, criteria: dict[str, Any], expected: int) -> None:
    """Estimate -> approval -> delete: every copy across the tenant, in one action each."""
    estimate = book.run(
        "search_and_delete_emails", "Estimate the campaign removal (changes nothing)", **criteria
    )
    matched = estimate["totals"]["matched"]
    if matched != expected:
        raise StepFailed(f"the estimate found {matched} copies, the search {expected}")
    # A SOAR playbook's approval task sits here; the demo approves what it was shown.
    print(
        f"\n== Approval: remove {matched} messages from "
        f"{estimate['totals']['mailboxes_with_matches']} mailboxes? approved (demo)"
    )
    book.run(
        "search_and_delete_emails",
        "Remove the campaign with the approval (recoverable: Deleted Items)",
        mode="delete",
        approval_token=estimate["approval_token"],
        **criteria,
    )


def respond(book: Playbook) -> None:
    """From the reporting mailbox to containment: poll the reports, read one in full, find the
    reported message in every mailbox, contain it, notify, thank the reporters."""
    book.run("test_connection", "Test the connection and the granted permissions")
    polled = book.run(
        "poll_mailbox",
        f"Poll the reporting mailbox {REPORTS} (enriched, marked read)",
        mailbox=REPORTS,
        since=REPORTS_SINCE,
        enrich=True,
        mark_as_read=True,
    )
    for incident in incidents_from(polled, severity="high"):
        f = incident.fields
        print(f"   incident [{incident.severity}] {incident.name}")
        print(f"      reported: {f.get('reported_subject')} from {f.get('reported_sender')}")
        print(f"      spf={f.get('spf')} dmarc={f.get('dmarc')} url domains={f.get('url_domains')}")
    reports = [m for m in polled["messages"] if (m.get("enrichment") or {}).get("is_report")]
    if not reports:
        raise StepFailed("no user report in the reporting mailbox")
    email = book.run(
        "get_email",
        "Read the first report in full (the original unwrapped)",
        mailbox=REPORTS,
        message_id=reports[0]["id"],
    )
    original = email["enrichment"]["reported_messages"][0]
    sender, subject = _sender(original), original["subject"]
    found = book.run(
        "search_emails_extended",
        f"Find the reported message ({sender}) in every mailbox",
        all_mailboxes=True,
        sender=sender,
        subject=subject,
    )
    hits = found["messages"]
    if not hits:
        raise StepFailed("the reported message was not found in any mailbox")
    book.run(
        "download_mail_as_eml",
        f"Keep one copy as evidence (EML, {hits[0]['mailbox']})",
        mailbox=hits[0]["mailbox"],
        message_id=hits[0]["id"],
    )
    for hit in hits:
        book.run(
            "junk_mail",
            f"Junk it and block the sender in {hit['mailbox']}",
            mailbox=hit["mailbox"],
            message_id=hit["id"],
            is_junk=True,
            move=True,
            block_sender=True,
        )
    remove_campaign(book, {"all_mailboxes": True, "sender": sender, "subject": subject}, len(hits))
    mailboxes = ", ".join(sorted({h["mailbox"] for h in hits}))
    urls = "\n".join(f"  {u['url']}" for u in original["urls"])
    book.run(
        "send_email",
        "Notify the SOC mailbox",
        mailbox=SOC,
        to=[SOC],
        subject=f"[Contained] Reported phishing: {subject} from {sender}",
        body=(
            f"{len(reports)} user report(s) of {subject!r} from {sender} "
            f"(SPF {original['headers']['authentication']['spf']}, DMARC "
            f"{original['headers']['authentication']['dmarc']}). Found in {len(hits)} mailboxes "
            f"({mailboxes}), marked as junk, the sender blocked, moved to Deleted Items.\n\n"
            f"URLs in the message:\n{urls}\n"
        ),
        importance="high",
    )
    for report in reports:
        book.run(
            "reply_to_email",
            f"Thank the reporter ({(report.get('from') or {}).get('address')})",
            mailbox=REPORTS,
            message_id=report["id"],
            body=(
                "Thank you for reporting this message. It was phishing: we removed it from "
                f"{len(hits)} mailboxes and blocked the sender."
            ),
        )
    again = book.run(
        "poll_mailbox",
        "Poll again from the stored checkpoint: nothing is delivered twice",
        mailbox=REPORTS,
        checkpoint=polled["checkpoint"],
    )
    if again["count"]:
        raise StepFailed("the second poll delivered messages again")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["graph", "ews"], default="graph")
    parser.add_argument("--output", type=Path, default=ROOT / "demo-output")
    args = parser.parse_args(argv)
    output_dir = args.output.resolve()
    if output_dir.exists():
        shutil.rmtree(output_dir)  # the demo's own folder: start from nothing on every run
    output_dir.mkdir(parents=True)
    print(f"Starting the sandbox tenant (seed: demo) — backend {args.backend}")
    with start_sandbox(seed="demo") as sb:
        config = sb.pack_config(
            app="full",
            backend=args.backend,
            default_mailbox=SOC,
            output_dir=str(output_dir),
        )  # the token and EWS version caches stay in the sandbox's own temporary folder
        print(f"Sandbox up at {sb.base_url} (tenant {sb.tenant_id})")
        book = Playbook(config, output_dir)
        try:
            respond(book)
        except StepFailed as failed:
            print(f"\nPlaybook stopped: {failed}")
            return 1
        token_requests = sum(1 for r in sb.requests() if r["path"].endswith("/oauth2/v2.0/token"))
        total = len(sb.requests())
    print(
        f"\nDone: {book.step} actions, {total} requests to the tenant, {token_requests} token "
        f"request(s) (the token cache serves the other processes). Files in {output_dir}. "
        "Sandbox stopped."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
