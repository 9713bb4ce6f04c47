// What a chat shows, folded from the run events as they stream in.
import type { Message, MessageContent, Run, RunStep, StreamEvent } from "./types";

export interface ChatState {
  messages: Message[];
  steps: Record<string, RunStep[]>; // by run id
  run: Run | null;
  firstTokenMs: number | null; // since the message was sent, as this browser saw it
}

export const emptyChat: ChatState = { messages: [], steps: {}, run: null, firstTokenMs: null };

interface TextDelta {
  index: number;
  type: "text";
  text?: { value?: string };
}

function withMessage(messages: Message[], message: Message): Message[] {
  const at = messages.findIndex((m) => m.id === message.id);
  if (at < 0) return [...messages, message];
  return messages.map((m, i) => (i === at ? message : m));
}

function appendText(message: Message, deltas: TextDelta[]): Message {
  const content: MessageContent[] = [...message.content];
  for (const delta of deltas) {
    if (delta.type !== "text") continue;
    const current = content[delta.index];
    const before = current?.type === "text" ? current.text.value : "";
    const annotations = current?.type === "text" ? current.text.annotations : [];
    content[delta.index] = { type: "text", text: { value: before + (delta.text?.value ?? ""), annotations } };
  }
  return { ...message, content };
}

function withStep(steps: Record<string, RunStep[]>, runId: string, step: RunStep): Record<string, RunStep[]> {
  const list = steps[runId] ?? [];
  const at = list.findIndex((s) => s.id === step.id);
  const next = at < 0 ? [...list, step] : list.map((s, i) => (i === at ? step : s));
  return { ...steps, [runId]: next };
}

/** The chat after one event; ``sentAt`` is when the user sent (for time to first token). */
export function fold(state: ChatState, event: StreamEvent, sentAt: number): ChatState {
  const data = event.data as Record<string, unknown>;
  if (event.event.startsWith("thread.run.step.")) {
    if (event.event === "thread.run.step.delta") return state; // the step's final form follows
    const step = data as unknown as RunStep & { run_id: string };
    return { ...state, steps: withStep(state.steps, step.run_id, step) };
  }
  if (event.event.startsWith("thread.run.")) return { ...state, run: data as unknown as Run };
  if (event.event === "thread.message.delta") {
    const delta = data as { id: string; delta: { content?: TextDelta[] } };
    const messages = state.messages.map((m) => (m.id === delta.id ? appendText(m, delta.delta.content ?? []) : m));
    const firstTokenMs = state.firstTokenMs ?? event.at - sentAt;
    return { ...state, messages, firstTokenMs };
  }
  if (event.event.startsWith("thread.message.")) {
    return { ...state, messages: withMessage(state.messages, data as unknown as Message) };
  }
  return state;
}
