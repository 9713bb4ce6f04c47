import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import { ErrorNote } from "../components/ErrorNote";
import { CancelRun, newer } from "../components/CancelRun";
import { EventLog } from "../components/EventLog";
import { RunList } from "../components/RunList";
import { RunSummary } from "../components/RunSummary";
import { StepView } from "../components/StepView";
import { navigate } from "../router";
import type { Run, RunStep, RunTimings, StreamEvent } from "../types";

interface Props {
  api: Api;
  threadId?: string;
  runId?: string;
}

const ACTIVE = new Set(["queued", "in_progress", "cancelling"]);
const ENDED = new Set(["completed", "incomplete", "failed", "cancelled", "expired"].map((s) => `thread.run.${s}`));

export function Inspector({ api, threadId, runId }: Props) {
  return (
    <div class="inspector">
      <RunPicker threadId={threadId} runId={runId} />
      {threadId && runId && <RunTimeline key={runId} api={api} threadId={threadId} runId={runId} />}
      <RunList api={api} current={runId} />
    </div>
  );
}

function RunPicker({ threadId, runId }: { threadId?: string; runId?: string }) {
  const [thread, setThread] = useState(threadId ?? "");
  const [run, setRun] = useState(runId ?? "");
  const open = (event: Event) => {
    event.preventDefault();
    if (thread.trim() && run.trim()) navigate(`/runs/${thread.trim()}/${run.trim()}`);
  };
  return (
    <form class="card row" onSubmit={open}>
      <h2>Run inspector</h2>
      <input placeholder="thread_…" value={thread} onInput={(e) => setThread(e.currentTarget.value)} data-testid="inspect-thread-id" />
      <input placeholder="run_…" value={run} onInput={(e) => setRun(e.currentTarget.value)} data-testid="inspect-run-id" />
      <button type="submit" data-testid="inspect-open">
        Open
      </button>
    </form>
  );
}

/** The run as stored, its steps, and its events: joined live through the rejoinable stream
 * while it runs (then re-read once it ends), or told from the database once it is over. */
function RunTimeline({ api, threadId, runId }: Required<Props>) {
  const [run, setRun] = useState<Run | null>(null);
  const [steps, setSteps] = useState<RunStep[]>([]);
  const [timings, setTimings] = useState<RunTimings | null>(null);
  const [events, setEvents] = useState<StreamEvent[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const refresh = async (): Promise<Run> => {
      const [current, list, times] = await Promise.all([
        api.getRun(threadId, runId),
        api.listSteps(threadId, runId),
        api.runTimings(threadId, runId),
      ]);
      if (!stopped) {
        setRun(current);
        setSteps(list.data);
        setTimings(times);
      }
      return current;
    };
    // A stream ends at requires_action too: when the run has moved on since (its outputs were
    // submitted), join again after the last event seen, until the run ends or waits again.
    const watch = async () => {
      await refresh();
      const seen: StreamEvent[] = [];
      let after = 0;
      for (;;) {
        const before = seen.length;
        for await (const event of api.runEvents(threadId, runId, after)) {
          if (stopped) return;
          if (event.event === "done") continue;
          seen.push(event);
          setEvents([...seen]);
          after = Number(event.id ?? after);
          if (!event.event.includes(".delta")) await refresh();
        }
        const current = await refresh();
        if (seen.length === before) return; // nothing new: the server has told all it has
        const last = seen[seen.length - 1]?.event ?? "";
        if (stopped || current.status === "requires_action" || ENDED.has(last)) return;
        if (!ACTIVE.has(current.status) && !last.endsWith("requires_action")) return;
      }
    };
    watch().catch((failure) => setError(messageOf(failure)));
    return () => {
      stopped = true;
    };
  }, [api, threadId, runId]);

  return (
    <>
      <ErrorNote error={error} />
      {run && (
        <RunSummary
          run={run}
          steps={steps}
          timings={timings}
          live={ACTIVE.has(run.status)}
          actions={
            <CancelRun
              api={api}
              run={run}
              onChange={(next) => setRun((shown) => newer(shown, next))}
              poll={run.status === "requires_action"}
            />
          }
        />
      )}
      <section class="card">
        <h3>Steps</h3>
        <ol class="steps">
          {steps.map((step) => (
            <StepView key={step.id} api={api} step={step} />
          ))}
        </ol>
      </section>
      <EventLog events={events} />
    </>
  );
}
