import { useState } from "preact/hooks";

interface Props {
  threads: string[];
  selected: string | null;
  onSelect: (threadId: string | null) => void;
}

export function ThreadList({ threads, selected, onSelect }: Props) {
  const [typed, setTyped] = useState("");
  return (
    <section class="card">
      <header class="row">
        <h2>Threads</h2>
        <button onClick={() => onSelect(null)} data-testid="thread-new">
          New
        </button>
      </header>
      <ul class="list">
        {threads.map((id) => (
          <li key={id}>
            <button class={id === selected ? "item selected" : "item"} onClick={() => onSelect(id)} data-testid="thread-item">
              {id}
            </button>
          </li>
        ))}
      </ul>
      <form class="row" onSubmit={(e) => (e.preventDefault(), typed && onSelect(typed.trim()))}>
        <input placeholder="thread_… by id" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        <button type="submit">Open</button>
      </form>
    </section>
  );
}
