"""The file_search tool inside runs: the model calls ``file_search(queries)``, the tool searches
the run's vector stores, records the results in the tool_calls step and hands them to the model
labelled with source markers; when the answer is complete, the markers it copied become
``file_citation`` annotations.

    engine.server_tools.register(FileSearchTool(ingestion.index, ingestion.embedder))
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from assistantd.objects import files
from assistantd.retrieval.embedder import Embedder, EmbeddingError
from assistantd.retrieval.index import ChunkIndex, SearchHit
from assistantd.retrieval.search import search
from assistantd.store import documents
from assistantd.store.tables import Run
from assistantd.tools.file_search.history import file_search_calls
from assistantd.tools.file_search.markers import citations, marker
from assistantd.tools.file_search.stores import live_stores, run_store_ids, wait_for_indexing
from assistantd.tools.interface import AnnotationContext, ServerToolResult, ToolCall, ToolContext

# The hosted API's defaults: 20 results, 5 for gpt-3.5-turbo models (their context is short).
DEFAULT_MAX_NUM_RESULTS = 20
GPT_35_MAX_NUM_RESULTS = 5
# Turns whose call numbering is remembered (see ``_next_call_number``); old ones are dropped.
REMEMBERED_TURNS = 1024

DESCRIPTION = (
    "Search the files the user and the assistant have made available. Give one or more "
    "queries, each a self-contained search phrase (rephrase the question several ways for "
    "better recall). Results come labelled with source markers like 【0:1†notes.txt】; "
    "cite a result you use by copying its marker exactly into your answer."
)
PARAMETERS = {
    "type": "object",
    "properties": {
        "queries": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The search queries.",
        }
    },
    "required": ["queries"],
}


@dataclass(frozen=True)
class Result:
    file_id: str
    file_name: str
    score: float
    text: str


class FileSearchTool:
    type = "file_search"

    def __init__(self, index: ChunkIndex, embedder: Embedder) -> None:
        self._index = index
        self._embedder = embedder
        # (tenant, thread, calls recorded) → calls of the running turn numbered so far.
        self._turn_calls: OrderedDict[tuple[str, str, int], int] = OrderedDict()

    def chat_function(self, tool: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": "file_search",
                "description": DESCRIPTION,
                "parameters": PARAMETERS,
            },
        }

    async def run(self, call: ToolCall, context: ToolContext) -> ServerToolResult:
        options = context.tool.get("file_search") or {}
        ranking = _ranking_options(options)
        number = await self._next_call_number(context)
        try:
            queries = _queries(call.arguments)
        except ValueError as error:
            return _result(call, ranking, [], f"The file_search call was not understood: {error}")
        store_ids = await live_stores(context.db, context.tenant, await run_store_ids(context))
        if not store_ids:
            return _result(call, ranking, [], "No files are available to search.")
        unsearched = await wait_for_indexing(
            context.db, context.tenant, store_ids, context.settings.file_search_wait_seconds
        )
        try:
            hits = await search(
                self._index,
                self._embedder,
                store_ids,
                queries,
                max_num_results=options.get("max_num_results") or default_max_results(context),
                score_threshold=ranking["score_threshold"],
                ranker=ranking["ranker"],
            )
        except EmbeddingError as error:
            return _result(call, ranking, [], f"The search failed: {error}")
        results = await _named(context, hits)
        return _result(call, ranking, results, _output(queries, number, results, unsearched))

    async def annotate(
        self, content: list[dict[str, Any]], context: AnnotationContext
    ) -> list[dict[str, Any]]:
        run = await documents.fetch(context.session, Run, context.tenant, context.run_id)
        if run is None or not any(part["type"] == "text" for part in content):
            return content
        calls = await file_search_calls(context.session, context.tenant, run.thread_id)
        if not calls:
            return content
        return [_cited(part, calls) if part["type"] == "text" else part for part in content]

    async def _next_call_number(self, context: ToolContext) -> int:
        """This call's number in the thread (see ``markers``): the calls recorded so far, plus
        the calls of this turn numbered before it (a turn records its calls only at its end)."""
        async with context.db.read() as session:
            recorded = len(await file_search_calls(session, context.tenant, context.thread_id))
        key = (context.tenant, context.thread_id, recorded)
        earlier = self._turn_calls.get(key, 0)
        self._turn_calls[key] = earlier + 1
        self._turn_calls.move_to_end(key)
        while len(self._turn_calls) > REMEMBERED_TURNS:
            self._turn_calls.popitem(last=False)
        return recorded + earlier


def default_max_results(context: ToolContext) -> int:
    """``max_num_results`` when the tool's definition sets none."""
    if context.model.startswith("gpt-3.5-turbo"):
        return GPT_35_MAX_NUM_RESULTS
    return DEFAULT_MAX_NUM_RESULTS


def _ranking_options(options: dict[str, Any]) -> dict[str, Any]:
    given = options.get("ranking_options") or {}
    return {
        "ranker": given.get("ranker") or "auto",
        "score_threshold": float(given.get("score_threshold") or 0.0),
    }


def _queries(arguments: str) -> list[str]:
    """``{"queries": [...]}``, or the ``{"query": "..."}`` some models send instead."""
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"the arguments are not JSON ({error.msg})") from None
    raw = parsed.get("queries", parsed.get("query")) if isinstance(parsed, dict) else None
    if isinstance(raw, str):
        raw = [raw]
    queries = [q.strip() for q in raw or [] if isinstance(q, str) and q.strip()]
    if not queries:
        raise ValueError('give "queries", a list of non-empty search strings')
    return queries


async def _named(context: ToolContext, hits: list[SearchHit]) -> list[Result]:
    """The hits as results with their file names (hits of files deleted meanwhile are dropped)."""
    async with context.db.read() as session:
        known = await files.get_many(session, context.tenant, [hit.file_id for hit in hits])
    return [
        Result(
            hit.file_id, known[hit.file_id]["filename"], min(max(hit.score, 0.0), 1.0), hit.content
        )
        for hit in hits
        if hit.file_id in known
    ]


def _result(
    call: ToolCall, ranking: dict[str, Any], results: list[Result], output: str
) -> ServerToolResult:
    """The step entry keeps every result's content; the API strips it unless ``include[]``
    asks for it (``objects.steps.for_wire``)."""
    entry = {
        "id": call.id,
        "type": "file_search",
        "file_search": {
            "ranking_options": ranking,
            "results": [
                {
                    "file_id": r.file_id,
                    "file_name": r.file_name,
                    "score": r.score,
                    "content": [{"type": "text", "text": r.text}],
                }
                for r in results
            ],
        },
    }
    return ServerToolResult(step_entry=entry, output=output)


def _output(queries: list[str], number: int, results: list[Result], unsearched: int) -> str:
    searched = "; ".join(json.dumps(q, ensure_ascii=False) for q in queries)
    lines = [f"File search for {searched}."]
    if unsearched:
        lines.append(f"({unsearched} file(s) were still being indexed and were not searched.)")
    if not results:
        lines.append("No results were found.")
        return "\n".join(lines)
    lines.append(
        "Cite each result you use by copying its source marker (such as "
        f"{marker(number, 0, results[0].file_name)}) right after the statement it supports."
    )
    for position, result in enumerate(results):
        lines += ["", f"{marker(number, position, result.file_name)}", result.text]
    return "\n".join(lines)


def _cited(part: dict[str, Any], calls: list[dict[str, Any]]) -> dict[str, Any]:
    text = part["text"]
    found = citations(text["value"], calls)
    if not found:
        return part
    annotations = sorted([*text["annotations"], *found], key=lambda a: a["start_index"])
    return {**part, "text": {**text, "annotations": annotations}}
