// Client routes under /console/ (the server answers index.html for each of them).
import { useEffect, useState } from "preact/hooks";

const BASE = "/console";

export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  return path || "/";
}

export function navigate(path: string): void {
  history.pushState(null, "", BASE + path);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function href(path: string): string {
  return BASE + path;
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return path;
}

export function query(name: string): string | null {
  return new URLSearchParams(location.search).get(name);
}
