import { useState } from "preact/hooks";
import type { ToolCallFunction } from "../types";

interface Props {
  calls: ToolCallFunction[];
  onSubmit: (outputs: { tool_call_id: string; output: string }[]) => void;
}

/** A run waiting for function outputs: each call, and a field for what it returned. */
export function ToolOutputs({ calls, onSubmit }: Props) {
  const [outputs, setOutputs] = useState<Record<string, string>>({});
  const submit = (event: Event) => {
    event.preventDefault();
    onSubmit(calls.map((call) => ({ tool_call_id: call.id, output: outputs[call.id] ?? "" })));
  };
  return (
    <form class="tool-outputs card" onSubmit={submit} data-testid="tool-outputs">
      <h3>The run needs function outputs</h3>
      {calls.map((call) => (
        <label key={call.id} data-testid="function-call">
          <code>
            {call.function.name}({call.function.arguments})
          </code>
          <input
            value={outputs[call.id] ?? ""}
            onInput={(e) => setOutputs({ ...outputs, [call.id]: e.currentTarget.value })}
            placeholder="output"
            data-testid="tool-output-input"
          />
        </label>
      ))}
      <button type="submit" data-testid="tool-output-submit">
        Submit outputs
      </button>
    </form>
  );
}
