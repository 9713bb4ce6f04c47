import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import { functionsOf, parseFunctions } from "../functions";
import type { Assistant, Model, ResponseFormat, Tool } from "../types";
import { ErrorNote } from "./ErrorNote";

interface Props {
  api: Api;
  models: Model[];
  assistant: Assistant | null; // null: a new one
  onSaved: (assistant: Assistant) => void;
}

interface Draft {
  name: string;
  model: string;
  instructions: string;
  temperature: string;
  responseFormat: "auto" | "text" | "json_object";
  fileSearch: boolean;
  codeInterpreter: boolean;
  functions: string;
  vectorStoreIds: string;
  codeFileIds: string;
}

function draftOf(assistant: Assistant | null, models: Model[]): Draft {
  const tools = assistant?.tools ?? [];
  const format = assistant?.response_format;
  const functions = functionsOf(tools);
  return {
    name: assistant?.name ?? "",
    model: assistant?.model ?? models[0]?.id ?? "",
    instructions: assistant?.instructions ?? "",
    temperature: assistant?.temperature == null ? "" : String(assistant.temperature),
    responseFormat: !format || format === "auto" ? "auto" : format.type,
    fileSearch: tools.some((t) => t.type === "file_search"),
    codeInterpreter: tools.some((t) => t.type === "code_interpreter"),
    functions: functions.length ? JSON.stringify(functions, null, 2) : "",
    vectorStoreIds: (assistant?.tool_resources?.file_search?.vector_store_ids ?? []).join(", "),
    codeFileIds: (assistant?.tool_resources?.code_interpreter?.file_ids ?? []).join(", "),
  };
}

function ids(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function bodyOf(draft: Draft, functions: Tool[], isNew: boolean): Record<string, unknown> {
  const tools: Tool[] = [...functions];
  if (draft.fileSearch) tools.unshift({ type: "file_search" });
  if (draft.codeInterpreter) tools.unshift({ type: "code_interpreter" });
  const format: ResponseFormat = draft.responseFormat === "auto" ? "auto" : { type: draft.responseFormat };
  const body: Record<string, unknown> = {
    name: draft.name || null,
    model: draft.model,
    instructions: draft.instructions,
    tools,
    response_format: format,
    tool_resources: {
      file_search: { vector_store_ids: draft.fileSearch ? ids(draft.vectorStoreIds) : [] },
      code_interpreter: { file_ids: draft.codeInterpreter ? ids(draft.codeFileIds) : [] },
    },
  };
  if (draft.temperature !== "") body.temperature = Number(draft.temperature);
  else if (!isNew) body.temperature = null;
  return body;
}

export function AssistantForm({ api, models, assistant, onSaved }: Props) {
  const [draft, setDraft] = useState(() => draftOf(assistant, models));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setDraft(draftOf(assistant, models)), [assistant]);
  // Models may arrive after the user started typing: fill in only the model, keep the rest.
  useEffect(() => setDraft((current) => (current.model ? current : { ...current, model: models[0]?.id ?? "" })), [models]);

  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => setDraft({ ...draft, [field]: value });
  const parsed = parseFunctions(draft.functions);

  const save = async (event: Event) => {
    event.preventDefault();
    if (!parsed.ok) return;
    const functions: Tool[] = parsed.functions.map((fn) => ({ type: "function", function: fn }));
    setError(null);
    try {
      const body = bodyOf(draft, functions, assistant === null);
      onSaved(assistant ? await api.updateAssistant(assistant.id, body) : await api.createAssistant(body));
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  return (
    <form class="card assistant-form" onSubmit={save}>
      <h2>{assistant ? `Edit ${assistant.id}` : "New assistant"}</h2>
      <label>
        Name
        <input value={draft.name} onInput={(e) => set("name", e.currentTarget.value)} data-testid="assistant-name" />
      </label>
      <label>
        Model
        <select value={draft.model} onChange={(e) => set("model", e.currentTarget.value)} data-testid="assistant-model">
          {models.map((model) => (
            <option key={model.id} value={model.id}>
              {model.id}
            </option>
          ))}
          {draft.model && !models.some((m) => m.id === draft.model) && <option value={draft.model}>{draft.model}</option>}
        </select>
      </label>
      <label>
        Instructions
        <textarea
          rows={4}
          value={draft.instructions}
          onInput={(e) => set("instructions", e.currentTarget.value)}
          data-testid="assistant-instructions"
        />
      </label>
      <div class="row">
        <label>
          Temperature
          <input
            type="number"
            min="0"
            max="2"
            step="0.1"
            value={draft.temperature}
            onInput={(e) => set("temperature", e.currentTarget.value)}
            data-testid="assistant-temperature"
          />
        </label>
        <label>
          Response format
          <select
            value={draft.responseFormat}
            onChange={(e) => set("responseFormat", e.currentTarget.value as Draft["responseFormat"])}
            data-testid="assistant-response-format"
          >
            <option value="auto">auto</option>
            <option value="text">text</option>
            <option value="json_object">json_object</option>
          </select>
        </label>
      </div>
      <label class="check">
        <input type="checkbox" checked={draft.fileSearch} onChange={(e) => set("fileSearch", e.currentTarget.checked)} data-testid="assistant-file-search" />
        file_search, vector stores:
        <input value={draft.vectorStoreIds} placeholder="vs_…" onInput={(e) => set("vectorStoreIds", e.currentTarget.value)} data-testid="assistant-vector-stores" />
      </label>
      <label class="check">
        <input type="checkbox" checked={draft.codeInterpreter} onChange={(e) => set("codeInterpreter", e.currentTarget.checked)} data-testid="assistant-code-interpreter" />
        code_interpreter, files:
        <input value={draft.codeFileIds} placeholder="file-…" onInput={(e) => set("codeFileIds", e.currentTarget.value)} data-testid="assistant-code-files" />
      </label>
      <label>
        Functions (a JSON array of {"{name, description, parameters}"})
        <textarea
          rows={5}
          class="code"
          value={draft.functions}
          onInput={(e) => set("functions", e.currentTarget.value)}
          data-testid="assistant-functions"
        />
      </label>
      {!parsed.ok && <p class="error" data-testid="functions-error">{parsed.error}</p>}
      <button type="submit" disabled={!parsed.ok || !draft.model} data-testid="assistant-save">
        Save
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
