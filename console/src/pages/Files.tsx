import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import { ErrorNote } from "../components/ErrorNote";
import { VectorStorePanel } from "../components/VectorStorePanel";
import { query } from "../router";
import type { FileObject, VectorStore } from "../types";

export function Files({ api }: { api: Api }) {
  const [files, setFiles] = useState<FileObject[]>([]);
  const [stores, setStores] = useState<VectorStore[]>([]);
  const [storeName, setStoreName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const highlighted = query("file");

  const reload = () =>
    Promise.all([api.listFiles(), api.listStores()]).then(
      ([fileList, storeList]) => (setFiles(fileList.data), setStores(storeList.data)),
      (failure) => setError(messageOf(failure)),
    );
  useEffect(() => void reload(), [api]);

  const upload = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    setError(null);
    try {
      for (const file of Array.from(input.files ?? [])) await api.uploadFile(file);
      input.value = "";
      await reload();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  const createStore = async (event: Event) => {
    event.preventDefault();
    try {
      await api.createStore(storeName || "store");
      setStoreName("");
      await reload();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  return (
    <div class="files">
      <section class="card">
        <h2>Files</h2>
        <input type="file" multiple onChange={upload} data-testid="file-upload" />
        <ErrorNote error={error} />
        <table>
          <tbody>
            {files.map((file) => (
              <tr key={file.id} class={file.id === highlighted ? "highlight" : ""} data-testid="file-row">
                <td>{file.filename}</td>
                <td class="muted">{file.id}</td>
                <td class="muted">{file.bytes} bytes</td>
                <td class="muted">{file.purpose}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card">
        <header class="row">
          <h2>Vector stores</h2>
          <form class="row" onSubmit={createStore}>
            <input placeholder="name" value={storeName} onInput={(e) => setStoreName(e.currentTarget.value)} data-testid="store-name" />
            <button type="submit" data-testid="store-create">
              Create
            </button>
          </form>
        </header>
        {stores.map((store) => (
          <VectorStorePanel key={store.id} api={api} store={store} files={files} />
        ))}
      </section>
    </div>
  );
}
