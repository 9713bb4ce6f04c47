import { useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import type { Run } from "../types";

export const CANCELLABLE = new Set(["queued", "in_progress", "requires_action"]);

interface Props {
  api: Api;
  run: Run;
  /** The run as the cancel call answered it (``cancelling``), then, if ``poll``, as it ended. */
  onChange: (run: Run) => void;
  /** No stream follows the run here (it waits for tool outputs): poll it to its end. */
  poll: boolean;
}

/** A button that asks the API to cancel a live run. */
export function CancelRun({ api, run, onChange, poll }: Props) {
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!CANCELLABLE.has(run.status)) return null;
  const cancel = async () => {
    setSending(true);
    setError(null);
    try {
      onChange(await api.cancelRun(run.thread_id, run.id));
      if (poll) onChange(await untilStopped(api, run));
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setSending(false);
    }
  };
  return (
    <>
      <button onClick={cancel} disabled={sending} data-testid="run-cancel">
        Cancel run
      </button>
      {error && <span class="error"> {error}</span>}
    </>
  );
}

async function untilStopped(api: Api, run: Run): Promise<Run> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const current = await api.getRun(run.thread_id, run.id);
    if (current.status !== "cancelling") return current;
  }
}

/** ``next`` in place of ``shown`` unless it is older news: the cancel call's answer
 * (``cancelling``) may come after the stream told the run's end. */
export function newer(shown: Run | null, next: Run): Run | null {
  if (!shown || shown.id !== next.id) return shown;
  return next.status === "cancelling" && !CANCELLABLE.has(shown.status) ? shown : next;
}
