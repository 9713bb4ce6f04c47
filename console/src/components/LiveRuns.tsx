import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import type { LiveRun } from "../types";
import { ErrorNote } from "./ErrorNote";
import { Link } from "./Link";

const POLL_MS = 2000;

interface Props {
  api: Api;
  projectName: (id: string | null) => string;
}

/** The runs not yet ended across every project, refreshed every two seconds. */
export function LiveRuns({ api, projectName }: Props) {
  const [runs, setRuns] = useState<LiveRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const poll = () =>
      api.liveRuns().then(
        (list) => !stopped && (setRuns(list.data), setError(null)),
        (failure) => !stopped && setError(messageOf(failure)),
      );
    void poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api]);

  return (
    <section class="card" data-testid="live-runs">
      <h2>Live runs</h2>
      <p class="muted">
        Runs queued, in progress, waiting for function outputs or cancelling, newest first. The admin key reads no run itself: follow a run&apos;s
        link, then sign in with a key of its project, and the run inspector opens on it.
      </p>
      <ErrorNote error={error} />
      {runs && runs.length === 0 && <p class="muted">No run in progress.</p>}
      {runs && runs.length > 0 && (
        <table class="data-table">
          <thead>
            <tr>
              <th>project</th>
              <th>run</th>
              <th>status</th>
              <th>model</th>
              <th>started</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id} data-testid="live-run">
                <td>{projectName(run.project_id)}</td>
                <td>
                  <Link to={`/runs/${run.thread_id}/${run.id}`}>{run.id}</Link>
                </td>
                <td>
                  <span class={`badge ${run.status}`}>{run.status}</span>
                  {run.required_action && <span class="muted"> {run.required_action.submit_tool_outputs.tool_calls.length} call(s)</span>}
                </td>
                <td>{run.model}</td>
                <td class="muted">{ago(run.started_at ?? run.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ago(at: number): string {
  const seconds = Math.max(0, Math.round(Date.now() / 1000 - at));
  return seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}
