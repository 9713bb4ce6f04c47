// The function tools of an assistant, edited as a JSON array and checked before saving.
import type { FunctionDefinition, Tool } from "./types";

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export type Parsed = { ok: true; functions: FunctionDefinition[] } | { ok: false; error: string };

export function parseFunctions(text: string): Parsed {
  if (!text.trim()) return { ok: true, functions: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  if (!Array.isArray(value)) return { ok: false, error: "expected a JSON array of function definitions" };
  for (const [index, item] of value.entries()) {
    const problem = problemOf(item);
    if (problem) return { ok: false, error: `function ${index}: ${problem}` };
  }
  return { ok: true, functions: value as FunctionDefinition[] };
}

function problemOf(item: unknown): string | null {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "must be an object";
  const { name, parameters, description } = item as Record<string, unknown>;
  if (typeof name !== "string" || !NAME.test(name)) return "name must be 1–64 letters, digits, _ or -";
  if (description !== undefined && typeof description !== "string") return "description must be a string";
  if (parameters === undefined) return null;
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters))
    return "parameters must be a JSON Schema object";
  const type = (parameters as Record<string, unknown>).type;
  if (type !== undefined && type !== "object") return 'parameters.type must be "object"';
  return null;
}

export function functionsOf(tools: Tool[]): FunctionDefinition[] {
  return tools.flatMap((tool) => (tool.type === "function" ? [tool.function] : []));
}
