import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import type { Project, ProjectKey, RateLimit } from "../types";
import { ErrorNote } from "./ErrorNote";

interface Props {
  api: Api;
  project: Project;
  onChanged: () => void;
}

export function ProjectPanel({ api, project, onChanged }: Props) {
  const [keys, setKeys] = useState<ProjectKey[]>([]);
  const [limits, setLimits] = useState<RateLimit[]>([]);
  const [newKey, setNewKey] = useState<string | null>(null);
  const [limit, setLimit] = useState({ model: "", requests: "", tokens: "" });
  const [error, setError] = useState<string | null>(null);

  const reload = () =>
    Promise.all([api.listKeys(project.id), api.listRateLimits(project.id)]).then(
      ([keyList, limitList]) => (setKeys(keyList.data), setLimits(limitList.data)),
      (failure) => setError(messageOf(failure)),
    );
  useEffect(() => void reload(), [api, project.id]);

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      await reload();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  const createKey = () =>
    act(async () => setNewKey((await api.createServiceAccount(project.id, "console")).api_key?.value ?? null));
  const number = (text: string) => (text === "" ? null : Number(text));
  const saveLimit = (event: Event) => {
    event.preventDefault();
    void act(() =>
      api.setRateLimit(project.id, limit.model, {
        max_requests_per_1_minute: number(limit.requests),
        max_tokens_per_1_minute: number(limit.tokens),
      }),
    );
  };

  return (
    <div class="project" data-testid="project-panel">
      <h4>Keys</h4>
      <button onClick={createKey} disabled={project.status !== "active"} data-testid="key-create">
        New key
      </button>
      {newKey && (
        <p>
          The new key, shown this once: <code data-testid="new-key">{newKey}</code>
        </p>
      )}
      <ul>
        {keys.map((key) => (
          <li key={key.id} data-testid="key-row">
            {key.name} <code>{key.redacted_value}</code> <span class="muted">{key.id}</span>{" "}
            <button class="link" onClick={() => act(() => api.deleteKey(project.id, key.id))}>
              delete
            </button>
          </li>
        ))}
      </ul>
      <h4>Rate limits (per minute)</h4>
      <table>
        <tbody>
          {limits.map((rl) => (
            <tr key={rl.id} data-testid="rate-limit-row">
              <td>{rl.model}</td>
              <td>{rl.max_requests_per_1_minute ?? "—"} requests</td>
              <td>{rl.max_tokens_per_1_minute ?? "—"} tokens</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="row" onSubmit={saveLimit}>
        <input placeholder="model" value={limit.model} onInput={(e) => setLimit({ ...limit, model: e.currentTarget.value })} data-testid="limit-model" />
        <input placeholder="requests" type="number" value={limit.requests} onInput={(e) => setLimit({ ...limit, requests: e.currentTarget.value })} data-testid="limit-requests" />
        <input placeholder="tokens" type="number" value={limit.tokens} onInput={(e) => setLimit({ ...limit, tokens: e.currentTarget.value })} data-testid="limit-tokens" />
        <button type="submit" disabled={!limit.model} data-testid="limit-save">
          Set limit
        </button>
      </form>
      {project.status === "active" && (
        <button class="danger" onClick={() => act(async () => (await api.archiveProject(project.id), onChanged()))}>
          Archive project
        </button>
      )}
      <ErrorNote error={error} />
    </div>
  );
}
