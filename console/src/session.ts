// The signed-in key, kept for this tab only (sessionStorage): closing the tab signs out.
import { Api, ApiError } from "./api";

export type Role = "project" | "admin";

export interface Session {
  api: Api;
  role: Role;
}

const STORAGE = "assistantd-console-key";

/** A project key opens /v1/assistants; the admin key opens only /v1/organization. */
export async function signIn(key: string): Promise<Session> {
  const api = new Api(key);
  try {
    await api.listAssistants();
    remember(key);
    return { api, role: "project" };
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    try {
      await api.listProjects();
    } catch {
      throw error; // the project API's answer is the one to show
    }
    remember(key);
    return { api, role: "admin" };
  }
}

function remember(key: string): void {
  sessionStorage.setItem(STORAGE, key);
}

export function rememberedKey(): string | null {
  return sessionStorage.getItem(STORAGE);
}

export function forget(): void {
  sessionStorage.removeItem(STORAGE);
}
