"""Which files a run's code sees in ``/mnt/data``: the code_interpreter ``file_ids`` of its
resources and the thread's message attachments for the tool, under their filenames."""

from __future__ import annotations

from typing import Any

from assistantd.objects import files
from assistantd.store import documents
from assistantd.store.database import Database
from assistantd.store.tables import Message
from assistantd.tools.code_interpreter.workspace import checked_name

TOOL = "code_interpreter"


async def input_files(
    db: Database, tenant: str, thread_id: str, tool_resources: dict[str, Any]
) -> dict[str, str]:
    """The run's input files as ``{file_id: name in /mnt/data}``, in the order they were given.

    Only files of ``tenant`` that still exist are included (a deleted or foreign id is skipped).
    When two files share a filename, the later one keeps it and the earlier one goes by its id.
    """
    resources = tool_resources.get(TOOL) or {}
    wanted = list(resources.get("file_ids") or [])
    async with db.read() as session:
        wanted += await _attached(session, tenant, thread_id)
        found = await files.get_many(session, tenant, wanted)
    ordered = list(dict.fromkeys(file_id for file_id in wanted if file_id in found))
    names: dict[str, str] = {}
    taken: dict[str, str] = {}
    for file_id in ordered:
        name = _sandbox_name(found[file_id]["filename"], file_id)
        if name in taken:
            names[taken[name]] = taken[name]
        names[file_id], taken[name] = name, file_id
    return names


async def _attached(session: Any, tenant: str, thread_id: str) -> list[str]:
    ids: list[str] = []
    for data in await documents.all_data(session, Message, tenant, thread_id=thread_id):
        for attachment in data.get("attachments") or []:
            if any(tool.get("type") == TOOL for tool in attachment.get("tools") or []):
                ids.append(attachment["file_id"])
    return ids


def _sandbox_name(filename: str, file_id: str) -> str:
    try:
        return checked_name(filename)
    except ValueError:
        return file_id
