import type { Run, RunStep } from "../types";

function seconds(from: number | null, to: number | null): string {
  return from !== null && to !== null ? `${to - from} s` : "—";
}

/** The first message step's creation after the run started: the server's time to first token
 * (whole seconds, as the API's timestamps are). */
function firstToken(run: Run, steps: RunStep[]): string {
  const message = steps.find((s) => s.type === "message_creation");
  return seconds(run.started_at, message?.created_at ?? null);
}

export function RunSummary({ run, steps, live }: { run: Run; steps: RunStep[]; live: boolean }) {
  const ended = run.completed_at ?? run.failed_at ?? run.cancelled_at;
  return (
    <section class="card run-summary">
      <h3>
        {run.id} <span class={`badge ${run.status}`} data-testid="run-status">{run.status}</span>
        {live && <span class="muted"> · live</span>}
      </h3>
      <dl>
        <dt>model</dt>
        <dd>{run.model}</dd>
        <dt>assistant</dt>
        <dd>{run.assistant_id}</dd>
        <dt>queued</dt>
        <dd>{seconds(run.created_at, run.started_at)}</dd>
        <dt>time to first token</dt>
        <dd data-testid="run-ttft">{firstToken(run, steps)}</dd>
        <dt>duration</dt>
        <dd>{seconds(run.started_at, ended)}</dd>
        <dt>usage</dt>
        <dd data-testid="run-usage">
          {run.usage
            ? `${run.usage.prompt_tokens} prompt + ${run.usage.completion_tokens} completion = ${run.usage.total_tokens} tokens`
            : "—"}
        </dd>
        {run.last_error && (
          <>
            <dt>last_error</dt>
            <dd class="error" data-testid="run-last-error">
              {run.last_error.code}: {run.last_error.message}
            </dd>
          </>
        )}
        {run.incomplete_details && (
          <>
            <dt>incomplete_details</dt>
            <dd class="error">{run.incomplete_details.reason}</dd>
          </>
        )}
      </dl>
    </section>
  );
}
