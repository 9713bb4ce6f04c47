// The Assistants API v2 objects the console reads, as far as it reads them.

export interface ApiList<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface FunctionDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export type Tool =
  | { type: "code_interpreter" }
  | { type: "file_search" }
  | { type: "function"; function: FunctionDefinition };

export interface ToolResources {
  code_interpreter?: { file_ids: string[] } | null;
  file_search?: { vector_store_ids: string[] } | null;
}

export type ResponseFormat = "auto" | { type: "text" } | { type: "json_object" };

export interface Assistant {
  id: string;
  created_at: number;
  name: string | null;
  model: string;
  instructions: string | null;
  tools: Tool[];
  tool_resources: ToolResources | null;
  temperature: number | null;
  response_format: ResponseFormat | null;
}

export interface Thread {
  id: string;
  created_at: number;
  metadata: Record<string, string> | null;
}

export interface Annotation {
  type: "file_citation" | "file_path";
  text: string;
  start_index: number;
  end_index: number;
  file_citation?: { file_id: string };
  file_path?: { file_id: string };
}

export type MessageContent =
  | { type: "text"; text: { value: string; annotations: Annotation[] } }
  | { type: "image_file"; image_file: { file_id: string } }
  | { type: "image_url"; image_url: { url: string } };

export interface Message {
  id: string;
  created_at: number;
  thread_id: string;
  role: "user" | "assistant";
  content: MessageContent[];
  run_id: string | null;
  assistant_id: string | null;
  status?: string;
}

export interface ToolCallFunction {
  id: string;
  type: "function";
  function: { name: string; arguments: string; output: string | null };
}

export interface CodeOutput {
  type: "logs" | "image";
  logs?: string;
  image?: { file_id: string };
}

export interface ToolCallCode {
  id: string;
  type: "code_interpreter";
  code_interpreter: { input: string; outputs: CodeOutput[] };
}

export interface FileSearchResult {
  file_id: string;
  file_name: string;
  score: number;
  content?: { type: "text"; text: string }[] | null;
}

export interface ToolCallFileSearch {
  id: string;
  type: "file_search";
  file_search: { results?: FileSearchResult[] };
}

export type ToolCall = ToolCallFunction | ToolCallCode | ToolCallFileSearch;

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ApiErrorBody {
  message: string;
  type?: string;
  code?: string | null;
  param?: string | null;
}

export interface Run {
  id: string;
  thread_id: string;
  assistant_id: string;
  status: string;
  model: string;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  cancelled_at: number | null;
  expires_at: number | null;
  required_action: {
    type: "submit_tool_outputs";
    submit_tool_outputs: { tool_calls: ToolCallFunction[] };
  } | null;
  last_error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  usage: Usage | null;
}

/** ``GET …/runs/{run_id}/timings`` (assistantd, beyond OpenAI): where the run's time went. */
export interface RunTimings {
  status: string;
  queued_ms: number | null;
  time_to_first_token_ms: number | null;
  model_ms: number;
  model_calls: number;
  server_ms: number;
  total_ms: number;
}

export interface RunStep {
  id: string;
  type: "message_creation" | "tool_calls";
  status: string;
  created_at: number;
  completed_at: number | null;
  step_details:
    | { type: "message_creation"; message_creation: { message_id: string } }
    | { type: "tool_calls"; tool_calls: ToolCall[] };
  usage: Usage | null;
  last_error: { code: string; message: string } | null;
}

export interface FileObject {
  id: string;
  filename: string;
  bytes: number;
  purpose: string;
  created_at: number;
}

export interface VectorStore {
  id: string;
  name: string | null;
  status: string;
  file_counts: { in_progress: number; completed: number; failed: number; total: number };
}

export interface VectorStoreFile {
  id: string;
  status: string;
  last_error: { code: string; message: string } | null;
}

export interface SearchResult {
  file_id: string;
  filename: string;
  score: number;
  content: { type: "text"; text: string }[];
}

export interface Model {
  id: string;
  owned_by?: string;
}

export interface Project {
  id: string;
  name: string;
  status: string;
  created_at: number;
}

export interface ProjectKey {
  id: string;
  name: string;
  redacted_value: string;
  last_used_at: number | null;
}

export interface ServiceAccountCreated {
  id: string;
  name: string;
  api_key: { value: string } | null;
}

export interface RateLimit {
  id: string;
  model: string;
  max_requests_per_1_minute: number | null;
  max_tokens_per_1_minute: number | null;
}

/** One server-sent event as the browser received it, with when (ms since page load). */
export interface StreamEvent {
  id: string | null;
  event: string;
  data: unknown;
  at: number;
}

/** One result of a Usage API bucket (`organization.usage.completions.result`). */
export interface UsageResult {
  input_tokens: number;
  output_tokens: number;
  input_cached_tokens?: number;
  num_model_requests: number;
  project_id: string | null;
  model: string | null;
}

export interface UsageBucket {
  start_time: number;
  end_time: number;
  results: UsageResult[];
}

export interface UsagePage {
  object: "page";
  data: UsageBucket[];
  has_more: boolean;
  next_page: string | null;
}

/** A run of `GET /v1/organization/runs` (an assistantd extension): the run and its project. */
export interface LiveRun extends Run {
  project_id: string | null;
}
