// The one typed client of the public /v1 API the console uses. It holds the key the user typed
// and nothing else: the console sees exactly what that key sees through the API.
import { readEvents } from "./sse";
import type {
  ApiErrorBody,
  ApiList,
  Assistant,
  FileObject,
  LiveRun,
  Message,
  Model,
  Project,
  ProjectKey,
  RateLimit,
  Run,
  RunStep,
  RunTimings,
  SearchResult,
  ServiceAccountCreated,
  StreamEvent,
  Thread,
  UsagePage,
  VectorStore,
  VectorStoreFile,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
}

type Json = Record<string, unknown>;

export class Api {
  constructor(readonly key: string) {}

  private headers(json: boolean): HeadersInit {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.key}`,
      "OpenAI-Beta": "assistants=v2",
    };
    if (json) headers["Content-Type"] = "application/json";
    return headers;
  }

  private async request(method: string, path: string, body?: Json | FormData): Promise<Response> {
    const form = body instanceof FormData;
    const response = await fetch(`/v1${path}`, {
      method,
      headers: this.headers(body !== undefined && !form),
      body: form ? body : body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  private async json<T>(method: string, path: string, body?: Json | FormData): Promise<T> {
    return (await this.request(method, path, body)).json() as Promise<T>;
  }

  private async *stream(method: string, path: string, body?: Json): AsyncGenerator<StreamEvent> {
    const response = await this.request(method, path, body);
    if (!response.body) return;
    yield* readEvents(response.body);
  }

  // --- assistants, models ---
  listAssistants = () => this.json<ApiList<Assistant>>("GET", "/assistants?limit=100");
  createAssistant = (body: Json) => this.json<Assistant>("POST", "/assistants", body);
  updateAssistant = (id: string, body: Json) => this.json<Assistant>("POST", `/assistants/${id}`, body);
  listModels = () => this.json<ApiList<Model>>("GET", "/models");

  // --- threads, messages, runs ---
  createThread = () => this.json<Thread>("POST", "/threads", {});
  getThread = (id: string) => this.json<Thread>("GET", `/threads/${id}`);
  listMessages = (threadId: string) =>
    this.json<ApiList<Message>>("GET", `/threads/${threadId}/messages?order=asc&limit=100`);
  addMessage = (threadId: string, content: string) =>
    this.json<Message>("POST", `/threads/${threadId}/messages`, { role: "user", content });
  listRuns = (threadId: string) => this.json<ApiList<Run>>("GET", `/threads/${threadId}/runs?limit=100`);
  getRun = (threadId: string, runId: string) => this.json<Run>("GET", `/threads/${threadId}/runs/${runId}`);
  cancelRun = (threadId: string, runId: string) => this.json<Run>("POST", `/threads/${threadId}/runs/${runId}/cancel`);
  /** assistantd's own: the project's runs across its threads, newest first. */
  listProjectRuns = () => this.json<ApiList<Run>>("GET", "/runs?limit=50");
  /** assistantd's own: queued, first token, model and server time of a run, in ms. */
  runTimings = (threadId: string, runId: string) =>
    this.json<RunTimings>("GET", `/threads/${threadId}/runs/${runId}/timings`);
  listSteps = (threadId: string, runId: string) =>
    this.json<ApiList<RunStep>>(
      "GET",
      `/threads/${threadId}/runs/${runId}/steps?order=asc&limit=100` +
        "&include[]=step_details.tool_calls[*].file_search.results[*].content",
    );
  streamRun = (threadId: string, assistantId: string) =>
    this.stream("POST", `/threads/${threadId}/runs`, { assistant_id: assistantId, stream: true });
  streamToolOutputs = (threadId: string, runId: string, outputs: { tool_call_id: string; output: string }[]) =>
    this.stream("POST", `/threads/${threadId}/runs/${runId}/submit_tool_outputs`, {
      tool_outputs: outputs,
      stream: true,
    });
  /** The rejoinable stream of any run's events (README "Rejoinable run streams"). */
  runEvents = (threadId: string, runId: string, after = 0) =>
    this.stream("GET", `/threads/${threadId}/runs/${runId}/events${after ? `?after=${after}` : ""}`);

  // --- files, vector stores ---
  listFiles = () => this.json<ApiList<FileObject>>("GET", "/files?limit=100");
  getFile = (id: string) => this.json<FileObject>("GET", `/files/${id}`);
  uploadFile(file: File, purpose = "assistants"): Promise<FileObject> {
    const form = new FormData();
    form.append("purpose", purpose);
    form.append("file", file);
    return this.json<FileObject>("POST", "/files", form);
  }
  async fileBlob(id: string): Promise<Blob> {
    return (await this.request("GET", `/files/${id}/content`)).blob();
  }
  listStores = () => this.json<ApiList<VectorStore>>("GET", "/vector_stores?limit=100");
  createStore = (name: string) => this.json<VectorStore>("POST", "/vector_stores", { name });
  listStoreFiles = (storeId: string) =>
    this.json<ApiList<VectorStoreFile>>("GET", `/vector_stores/${storeId}/files?limit=100`);
  addStoreFile = (storeId: string, fileId: string) =>
    this.json<VectorStoreFile>("POST", `/vector_stores/${storeId}/files`, { file_id: fileId });
  searchStore = (storeId: string, query: string) =>
    this.json<ApiList<SearchResult>>("POST", `/vector_stores/${storeId}/search`, { query });

  // --- the Administration API (admin key only) ---
  listProjects = () => this.json<ApiList<Project>>("GET", "/organization/projects?limit=100");
  createProject = (name: string) => this.json<Project>("POST", "/organization/projects", { name });
  archiveProject = (id: string) => this.json<Project>("POST", `/organization/projects/${id}/archive`, {});
  listKeys = (projectId: string) =>
    this.json<ApiList<ProjectKey>>("GET", `/organization/projects/${projectId}/api_keys?limit=100`);
  deleteKey = (projectId: string, keyId: string) =>
    this.json<Json>("DELETE", `/organization/projects/${projectId}/api_keys/${keyId}`);
  createServiceAccount = (projectId: string, name: string) =>
    this.json<ServiceAccountCreated>("POST", `/organization/projects/${projectId}/service_accounts`, { name });
  listRateLimits = (projectId: string) =>
    this.json<ApiList<RateLimit>>("GET", `/organization/projects/${projectId}/rate_limits?limit=100`);
  setRateLimit = (projectId: string, model: string, body: Json) =>
    this.json<RateLimit>("POST", `/organization/projects/${projectId}/rate_limits/rl-${model}`, body);
  /** One page of the Usage API; `query` as its query string (`start_time`, `bucket_width`…). */
  usage = (query: URLSearchParams) => this.json<UsagePage>("GET", `/organization/usage/completions?${query}`);
  /** The runs not yet ended across projects (an assistantd extension). */
  liveRuns = () => this.json<ApiList<LiveRun>>("GET", "/organization/runs?limit=100");
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: ApiErrorBody };
    if (body.error?.message) return new ApiError(response.status, body.error);
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(response.status, { message: `${response.status} ${response.statusText}` });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
