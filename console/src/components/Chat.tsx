import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import { emptyChat, fold, type ChatState } from "../chat";
import type { Assistant, Message, Run, RunStep, StreamEvent } from "../types";
import { CancelRun, newer } from "./CancelRun";
import { ChatMessage } from "./ChatMessage";
import { ErrorNote } from "./ErrorNote";
import { ToolCallView } from "./ToolCallView";
import { ToolOutputs } from "./ToolOutputs";

interface Props {
  api: Api;
  assistant: Assistant | null;
  threadId: string | null;
  onThread: (threadId: string) => void;
}

export function Chat({ api, assistant, threadId, onThread }: Props) {
  const [chat, setChat] = useState<ChatState>(emptyChat);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const created = useRef<string | null>(null); // a thread this chat just made: nothing to load
  const list = useRef<HTMLDivElement>(null);
  const following = useRef(true); // at the bottom: keep the newest text in view as it streams

  useLayoutEffect(() => {
    if (following.current && list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [chat]);
  const onScroll = () => {
    const el = list.current;
    if (el) following.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  useEffect(() => {
    if (threadId && threadId === created.current) {
      created.current = null;
      return;
    }
    setChat(emptyChat);
    if (!threadId) return;
    load(api, threadId).then(setChat, (failure) => setError(messageOf(failure)));
  }, [api, threadId]);

  const follow = async (events: AsyncGenerator<StreamEvent>, thread: string, start: ChatState) => {
    const sentAt = performance.now();
    let state: ChatState = { ...start, firstTokenMs: null };
    for await (const event of events) {
      state = fold(state, event, sentAt);
      setChat(state);
    }
    const run = state.run;
    if (run && run.status !== "requires_action") {
      const steps = (await api.listSteps(thread, run.id)).data;
      setChat((current) => ({ ...current, steps: { ...current.steps, [run.id]: steps } }));
    }
  };

  const guarded = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  const send = (event: Event) => {
    event.preventDefault();
    if (!assistant || !text.trim()) return;
    const content = text;
    setText("");
    void guarded(async () => {
      let thread = threadId;
      if (!thread) {
        thread = (await api.createThread()).id;
        created.current = thread;
        onThread(thread);
      }
      const message = await api.addMessage(thread, content);
      const start = { ...chat, messages: [...chat.messages, message] };
      setChat(start);
      await follow(api.streamRun(thread, assistant.id), thread, start);
    });
  };

  const submitOutputs = (outputs: { tool_call_id: string; output: string }[]) => {
    const run = chat.run!;
    void guarded(() => follow(api.streamToolOutputs(run.thread_id, run.id, outputs), run.thread_id, chat));
  };

  const cancelled = (run: Run) => setChat((current) => ({ ...current, run: newer(current.run, run) }));

  const pending = chat.run?.status === "requires_action" ? chat.run.required_action?.submit_tool_outputs.tool_calls : null;
  return (
    <section class="card chat">
      <header class="row">
        <h2>Chat {threadId && <span class="muted">{threadId}</span>}</h2>
        <RunStatus chat={chat} />
        {chat.run && <CancelRun api={api} run={chat.run} onChange={cancelled} poll={!busy} />}
      </header>
      <div class="messages" ref={list} onScroll={onScroll}>
        {timeline(api, chat)}
      </div>
      {pending && !busy && <ToolOutputs key={chat.run!.id} calls={pending} onSubmit={submitOutputs} />}
      <ErrorNote error={error} />
      <form class="row" onSubmit={send}>
        <textarea
          rows={2}
          value={text}
          placeholder={assistant ? `Message ${assistant.name || assistant.id}` : "Pick or create an assistant first"}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => e.key === "Enter" && !e.shiftKey && send(e)}
          data-testid="chat-input"
        />
        <button type="submit" disabled={busy || !assistant} data-testid="chat-send">
          Send
        </button>
      </form>
    </section>
  );
}

function RunStatus({ chat }: { chat: ChatState }) {
  if (!chat.run) return null;
  return (
    <span class="status">
      run <span data-testid="run-status">{chat.run.status}</span>
      {chat.firstTokenMs !== null && <span class="muted"> · first token {Math.round(chat.firstTokenMs)} ms</span>}
    </span>
  );
}

/** Messages in order, each run's tool steps (code, logs, images, searches) before its answer. */
function timeline(api: Api, chat: ChatState) {
  const shown = new Set<string>();
  const toolSteps = (runId: string) => {
    if (shown.has(runId)) return [];
    shown.add(runId);
    return (chat.steps[runId] ?? []).filter((s) => s.step_details.type === "tool_calls").map((s) => stepCalls(api, s));
  };
  const items = chat.messages.flatMap((message: Message) => [
    ...(message.run_id ? toolSteps(message.run_id) : []),
    <ChatMessage key={message.id} api={api} message={message} />,
  ]);
  return [...items, ...Object.keys(chat.steps).flatMap(toolSteps)];
}

function stepCalls(api: Api, step: RunStep) {
  if (step.step_details.type !== "tool_calls") return null;
  return (
    <div key={step.id} class="step-inline">
      {step.step_details.tool_calls.map((call) => (
        <ToolCallView key={call.id} api={api} call={call} />
      ))}
    </div>
  );
}

async function load(api: Api, threadId: string): Promise<ChatState> {
  const messages = (await api.listMessages(threadId)).data;
  const runs = (await api.listRuns(threadId)).data;
  const steps: ChatState["steps"] = {};
  await Promise.all(runs.map(async (run) => (steps[run.id] = (await api.listSteps(threadId, run.id)).data)));
  return { messages, steps, run: runs[0] ?? null, firstTokenMs: null };
}
