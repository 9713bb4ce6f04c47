import type { ComponentChildren } from "preact";
import type { Run, RunStep, RunTimings } from "../types";

function seconds(from: number | null, to: number | null): string {
  return from !== null && to !== null ? `${to - from} s` : "—";
}

function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${Math.round(value)} ms`;
}

/** The first message step's creation after the run started: the server's time to first token
 * (whole seconds, as the API's timestamps are), when the server's own timings are not known. */
function firstToken(run: Run, steps: RunStep[]): string {
  const message = steps.find((s) => s.type === "message_creation");
  return seconds(run.started_at, message?.created_at ?? null);
}

interface Props {
  run: Run;
  steps: RunStep[];
  timings: RunTimings | null;
  live: boolean;
  actions?: ComponentChildren;
}

export function RunSummary({ run, steps, timings, live, actions }: Props) {
  const ended = run.completed_at ?? run.failed_at ?? run.cancelled_at;
  return (
    <section class="card run-summary">
      <h3>
        {run.id} <span class={`badge ${run.status}`} data-testid="run-status">{run.status}</span>
        {live && <span class="muted"> · live</span>} {actions}
      </h3>
      <dl>
        <dt>model</dt>
        <dd>{run.model}</dd>
        <dt>assistant</dt>
        <dd>{run.assistant_id}</dd>
        <dt>queued</dt>
        <dd>{timings ? ms(timings.queued_ms) : seconds(run.created_at, run.started_at)}</dd>
        <dt>time to first token</dt>
        <dd data-testid="run-ttft">{timings?.time_to_first_token_ms != null ? ms(timings.time_to_first_token_ms) : firstToken(run, steps)}</dd>
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
      {timings && <TimeSplit timings={timings} />}
    </section>
  );
}

/** Model time against server time, as the server measured them (its ``/timings``): the bar's
 * parts are shares of the run's whole time; the rest was queueing or waiting for the client. */
function TimeSplit({ timings }: { timings: RunTimings }) {
  const total = Math.max(timings.total_ms, 1);
  const share = (value: number) => `${Math.min((100 * value) / total, 100)}%`;
  const calls = `${timings.model_calls} model call${timings.model_calls === 1 ? "" : "s"}`;
  return (
    <div class="time-split" data-testid="run-timings">
      <div class="bar" aria-hidden="true">
        <span class="model" style={{ width: share(timings.model_ms) }} />
        <span class="server" style={{ width: share(timings.server_ms) }} />
      </div>
      <dl>
        <dt>model time</dt>
        <dd data-testid="run-model-time">
          {ms(timings.model_ms)} <span class="muted">({calls})</span>
        </dd>
        <dt>server time</dt>
        <dd data-testid="run-server-time">{ms(timings.server_ms)}</dd>
        <dt>total</dt>
        <dd data-testid="run-total-time">
          {ms(timings.total_ms)} <span class="muted">since created{timings.status === "requires_action" ? ", so far" : ""}</span>
        </dd>
      </dl>
    </div>
  );
}
