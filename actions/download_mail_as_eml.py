"""Download Mail As EML: the full MIME of a message saved under output_dir as ``.eml``.

Graph: ``GET .../messages/{id}/$value``; EWS: GetItem with IncludeMimeContent. Streamed to disk
with SHA-256, SHA-1 and MD5 computed on the way; the header block is summarized as it passes.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.eml import (
    parse_header_block,
    peek_header_block,
    reference_fields,
    summary_of,
)
from exchange_pack.actions.files import INLINE_CONTENT_LIMIT, FileTooLargeError, OutputFolder
from exchange_pack.actions.outputs import EmlResult
from exchange_pack.actions.targets import completed, locate_message
from exchange_pack.config import ConnectionConfig
from exchange_pack.errors import InputError
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "download_mail_as_eml"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Writes ``<subject>.eml`` and reports its path, size, digests and header summary.

    Given a backend id, the one request is the MIME download: the subject and Message-ID of
    the output's reference come from its header block, read before the file is named."""
    mailbox, located = locate_message(ctx.session, params, config)
    limit = params["max_size_bytes"]
    folder = OutputFolder(ctx.output_dir)
    try:
        with mailbox.open_mime(located) as stream:
            block, chunks = peek_header_block(stream)
            parsed = parse_header_block(block)
            message = completed(located, *reference_fields(parsed))
            digest = folder.write(
                message.subject or "message",
                chunks,
                extension=".eml",
                max_size_bytes=limit,
                include_content=params["include_content"],
            )
    except FileTooLargeError as error:
        raise _too_large(error.size, error.limit) from None
    if params["include_content"] and digest.content_base64 is None:
        ctx.warn(f"Content not included (over {INLINE_CONTENT_LIMIT} bytes); see {digest.path}.")
    headers = summary_of(parsed)
    result = EmlResult(message=message, file=digest, headers=headers)
    return ActionResult(
        data=result,
        message=f"Saved {digest.file_name} ({digest.size} bytes, SHA-256 {digest.sha256}).",
        summary={"size": digest.size, "received_hops": headers.received_hops},
    )


def _too_large(size: int, limit: int) -> InputError:
    return InputError(
        f"The message is {size} bytes, over max_size_bytes ({limit}); nothing was saved.",
        hint="Raise max_size_bytes to download it.",
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
