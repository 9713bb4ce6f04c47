import type { Assistant } from "../types";

interface Props {
  assistants: Assistant[];
  selected: string | null;
  onSelect: (assistant: Assistant) => void;
  onNew: () => void;
}

export function AssistantList({ assistants, selected, onSelect, onNew }: Props) {
  return (
    <section class="card">
      <header class="row">
        <h2>Assistants</h2>
        <button onClick={onNew} data-testid="assistant-new">
          New
        </button>
      </header>
      <ul class="list">
        {assistants.map((assistant) => (
          <li key={assistant.id}>
            <button
              class={assistant.id === selected ? "item selected" : "item"}
              onClick={() => onSelect(assistant)}
              data-testid="assistant-item"
            >
              {assistant.name || assistant.id}
              <span class="muted"> {assistant.model}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
