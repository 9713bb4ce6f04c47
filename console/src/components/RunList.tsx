import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import type { Run } from "../types";
import { ErrorNote } from "./ErrorNote";
import { Link } from "./Link";

/** The project's recent runs across its threads, newest first (assistantd's ``GET /v1/runs``). */
export function RunList({ api, current }: { api: Api; current?: string }) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.listProjectRuns().then(
      (list) => setRuns(list.data),
      (failure) => setError(messageOf(failure)),
    );
  }, [api, current]);
  return (
    <section class="card run-list">
      <h3>Recent runs</h3>
      <ErrorNote error={error} />
      {runs?.length === 0 && <p class="muted">No runs yet.</p>}
      <ul data-testid="runs-list">
        {(runs ?? []).map((run) => (
          <li key={run.id} data-testid="run-item" data-thread-id={run.thread_id} class={run.id === current ? "current" : ""}>
            <Link to={`/runs/${run.thread_id}/${run.id}`}>{run.id}</Link>{" "}
            <span class={`badge ${run.status}`}>{run.status}</span> <span class="muted">{run.model}</span>{" "}
            <span class="muted">{new Date(run.created_at * 1000).toLocaleString()}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
