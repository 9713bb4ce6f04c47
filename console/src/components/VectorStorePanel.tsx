import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import type { FileObject, SearchResult, VectorStore, VectorStoreFile } from "../types";
import { ErrorNote } from "./ErrorNote";

const POLL_MS = 500;

interface Props {
  api: Api;
  store: VectorStore;
  files: FileObject[];
}

/** A store's files with their indexing status, polled while any is in progress, and a search. */
export function VectorStorePanel({ api, store, files }: Props) {
  const [entries, setEntries] = useState<VectorStoreFile[]>([]);
  const [adding, setAdding] = useState("");
  const [text, setText] = useState("");
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let timer: number | undefined;
    api.listStoreFiles(store.id).then((list) => {
      setEntries(list.data);
      if (list.data.some((e) => e.status === "in_progress")) timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
    }, (failure) => setError(messageOf(failure)));
    return () => clearTimeout(timer);
  }, [api, store.id, tick]);

  const name = (id: string) => files.find((f) => f.id === id)?.filename ?? id;
  const add = async (event: Event) => {
    event.preventDefault();
    if (!adding) return;
    try {
      await api.addStoreFile(store.id, adding);
      setTick((t) => t + 1);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  const search = async (event: Event) => {
    event.preventDefault();
    try {
      setResults((await api.searchStore(store.id, text)).data);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  return (
    <div class="store" data-testid="vector-store" data-id={store.id}>
      <h3>
        {store.name} <span class="muted">{store.id}</span>
      </h3>
      <ul>
        {entries.map((entry) => (
          <li key={entry.id}>
            {name(entry.id)} <span class={`badge ${entry.status}`} data-testid="store-file-status">{entry.status}</span>
            {entry.last_error && <span class="error"> {entry.last_error.message}</span>}
          </li>
        ))}
      </ul>
      <form class="row" onSubmit={add}>
        <select value={adding} onChange={(e) => setAdding(e.currentTarget.value)} data-testid="store-add-file">
          <option value="">add a file…</option>
          {files.map((file) => (
            <option key={file.id} value={file.id}>
              {file.filename}
            </option>
          ))}
        </select>
        <button type="submit" data-testid="store-add">
          Add
        </button>
      </form>
      <form class="row" onSubmit={search}>
        <input placeholder="search this store" value={text} onInput={(e) => setText(e.currentTarget.value)} data-testid="store-search-input" />
        <button type="submit" data-testid="store-search">
          Search
        </button>
      </form>
      <ErrorNote error={error} />
      {results && (
        <ol class="results">
          {results.map((result, index) => (
            <li key={index} data-testid="search-result">
              <b>{result.filename}</b> <span class="muted">score {result.score.toFixed(3)}</span>
              {result.content.map((part, i) => (
                <pre key={i}>{part.text}</pre>
              ))}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
