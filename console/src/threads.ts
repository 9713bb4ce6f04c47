// The API has no list of threads (nor has OpenAI's): the console remembers the threads opened in
// this browser, per key, and any thread can be opened by id (the API decides whether the key may).

function storageKey(apiKey: string): string {
  return `assistantd-console-threads:${apiKey.slice(-8)}`;
}

export function rememberedThreads(apiKey: string): string[] {
  try {
    return JSON.parse(localStorage.getItem(storageKey(apiKey)) ?? "[]") as string[];
  } catch {
    return [];
  }
}

export function rememberThread(apiKey: string, threadId: string): string[] {
  const threads = [threadId, ...rememberedThreads(apiKey).filter((id) => id !== threadId)].slice(0, 50);
  localStorage.setItem(storageKey(apiKey), JSON.stringify(threads));
  return threads;
}
