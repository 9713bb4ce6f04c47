import type { Api } from "../api";
import type { ToolCall } from "../types";
import { AuthImage } from "./AuthImage";
import { Link } from "./Link";

/** One tool call of a step: a function's arguments and output, code_interpreter's code, logs and
 * images, file_search's results with their scores. */
export function ToolCallView({ api, call }: { api: Api; call: ToolCall }) {
  if (call.type === "function") {
    return (
      <div class="tool-call" data-testid="tool-call">
        <b>function {call.function.name}</b>
        <pre>{call.function.arguments}</pre>
        {call.function.output !== null && <pre class="output">→ {call.function.output}</pre>}
      </div>
    );
  }
  if (call.type === "code_interpreter") {
    return (
      <div class="tool-call" data-testid="tool-call">
        <b>code_interpreter</b>
        <pre class="code" data-testid="code-input">{call.code_interpreter.input}</pre>
        {call.code_interpreter.outputs.map((output, index) =>
          output.type === "logs" ? (
            <pre key={index} class="output" data-testid="code-logs">{output.logs}</pre>
          ) : (
            <AuthImage key={index} api={api} fileId={output.image!.file_id} />
          ),
        )}
      </div>
    );
  }
  return (
    <div class="tool-call" data-testid="tool-call">
      <b>file_search</b>
      <ul>
        {(call.file_search.results ?? []).map((result, index) => (
          <li key={index}>
            <Link to={`/files?file=${result.file_id}`}>{result.file_name}</Link>{" "}
            <span class="muted">score {result.score.toFixed(3)}</span>
            {result.content?.map((part, i) => <pre key={i} class="output">{part.text}</pre>)}
          </li>
        ))}
      </ul>
    </div>
  );
}
