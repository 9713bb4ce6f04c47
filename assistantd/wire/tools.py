"""Tool definitions, tool resources, response formats and tool choice (SEMANTICS.md §3–§4)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistantd.wire.common import FileId, Metadata

FunctionName = Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RankingOptions(Strict):
    ranker: Literal["auto", "default_2024_08_21"] = "auto"
    score_threshold: Annotated[float, Field(ge=0, le=1)]


class FileSearchOptions(Strict):
    max_num_results: Annotated[int, Field(ge=1, le=50)] | None = None
    ranking_options: RankingOptions | None = None


class CodeInterpreterTool(Strict):
    type: Literal["code_interpreter"]


class FileSearchTool(Strict):
    type: Literal["file_search"]
    file_search: FileSearchOptions | None = None


class FunctionDefinition(Strict):
    name: FunctionName
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionTool(Strict):
    type: Literal["function"]
    function: FunctionDefinition


Tool = Annotated[CodeInterpreterTool | FileSearchTool | FunctionTool, Field(discriminator="type")]


def tool_to_wire(tool: CodeInterpreterTool | FileSearchTool | FunctionTool) -> dict[str, Any]:
    """The tool as the API echoes it, with the defaults OpenAI fills in."""
    if isinstance(tool, FunctionTool):
        function = tool.function.model_dump(exclude_none=True)
        function.setdefault("parameters", {"type": "object", "properties": {}})
        function.setdefault("strict", False)
        return {"type": "function", "function": function}
    if isinstance(tool, FileSearchTool):
        options = tool.file_search or FileSearchOptions()
        ranking = options.ranking_options or RankingOptions(score_threshold=0.0)
        body: dict[str, Any] = {"ranking_options": ranking.model_dump()}
        if options.max_num_results is not None:
            body["max_num_results"] = options.max_num_results
        return {"type": "file_search", "file_search": body}
    return {"type": "code_interpreter"}


# --- tool resources -------------------------------------------------------------------------


class CodeInterpreterResources(Strict):
    file_ids: Annotated[list[FileId], Field(max_length=20)] = []


class VectorStoreHelper(Strict):
    """``vector_stores`` on create: a store made from these files and attached."""

    file_ids: Annotated[list[FileId], Field(max_length=10000)] = []
    chunking_strategy: dict[str, Any] | None = None
    metadata: Metadata = None


class FileSearchResources(Strict):
    vector_store_ids: Annotated[list[str], Field(max_length=1)] | None = None
    vector_stores: Annotated[list[VectorStoreHelper], Field(max_length=1)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> FileSearchResources:
        if self.vector_store_ids is not None and self.vector_stores is not None:
            raise ValueError("only one of vector_store_ids or vector_stores may be given")
        return self


class ToolResources(Strict):
    code_interpreter: CodeInterpreterResources | None = None
    file_search: FileSearchResources | None = None


# --- response format and tool choice --------------------------------------------------------


class TextFormat(Strict):
    type: Literal["text"]


class JsonObjectFormat(Strict):
    type: Literal["json_object"]


class JsonSchemaSpec(Strict):
    name: FunctionName
    description: str | None = None
    schema_: Annotated[dict[str, Any] | None, Field(alias="schema")] = None
    strict: bool | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class JsonSchemaFormat(Strict):
    type: Literal["json_schema"]
    json_schema: JsonSchemaSpec


ResponseFormat = (
    Literal["auto"]
    | Annotated[TextFormat | JsonObjectFormat | JsonSchemaFormat, Field(discriminator="type")]
)


def response_format_to_wire(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value or "auto"
    return value.model_dump(by_alias=True, exclude_none=True)


class NamedFunction(Strict):
    name: str


class NamedToolChoice(Strict):
    type: Literal["function", "code_interpreter", "file_search"]
    function: NamedFunction | None = None

    @model_validator(mode="after")
    def _function_named(self) -> NamedToolChoice:
        if self.type == "function" and self.function is None:
            raise ValueError("function.name is required when type is 'function'")
        return self


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice
