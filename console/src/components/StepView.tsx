import type { Api } from "../api";
import type { RunStep } from "../types";
import { ToolCallView } from "./ToolCallView";

export function StepView({ api, step }: { api: Api; step: RunStep }) {
  const details = step.step_details;
  return (
    <li class="step" data-testid="run-step" data-type={step.type}>
      <div class="row">
        <b>{step.type}</b>
        <span class={`badge ${step.status}`}>{step.status}</span>
        <span class="muted">{step.id}</span>
        {step.usage && <span class="muted">{step.usage.total_tokens} tokens</span>}
      </div>
      {details.type === "message_creation" ? (
        <span class="muted">message {details.message_creation.message_id}</span>
      ) : (
        details.tool_calls.map((call) => <ToolCallView key={call.id} api={api} call={call} />)
      )}
      {step.last_error && (
        <p class="error">
          {step.last_error.code}: {step.last_error.message}
        </p>
      )}
    </li>
  );
}
