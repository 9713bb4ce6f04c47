import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";

/** An image of a stored file: its bytes need the key, so they are fetched and shown as a blob. */
export function AuthImage({ api, fileId }: { api: Api; fileId: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let objectUrl: string | null = null;
    api
      .fileBlob(fileId)
      .then((blob) => setUrl((objectUrl = URL.createObjectURL(blob))))
      .catch(() => setUrl(null));
    return () => {
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, fileId]);
  return url ? <img class="output-image" src={url} alt={fileId} data-testid="code-image" /> : <span class="muted">{fileId}</span>;
}
