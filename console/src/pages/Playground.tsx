import { useEffect, useRef, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import { AssistantForm } from "../components/AssistantForm";
import { AssistantList } from "../components/AssistantList";
import { Chat } from "../components/Chat";
import { ErrorNote } from "../components/ErrorNote";
import { ThreadList } from "../components/ThreadList";
import { rememberedThreads, rememberThread } from "../threads";
import type { Assistant, Model } from "../types";

export function Playground({ api }: { api: Api }) {
  const [assistants, setAssistants] = useState<Assistant[]>([]);
  const [models, setModels] = useState<Model[]>([]);
  const [selected, setSelected] = useState<Assistant | null>(null);
  const [editing, setEditing] = useState(false);
  const [threads, setThreads] = useState(() => rememberedThreads(api.key));
  const [threadId, setThreadId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = useRef(false); // the user picked an assistant (or "New") before the list came

  useEffect(() => {
    Promise.all([api.listAssistants(), api.listModels()]).then(
      ([list, modelList]) => {
        setAssistants(list.data);
        setModels(modelList.data);
        if (!chosen.current) setSelected(list.data[0] ?? null);
      },
      (failure) => setError(messageOf(failure)),
    );
  }, [api]);

  const saved = (assistant: Assistant) => {
    setAssistants((list) => [assistant, ...list.filter((a) => a.id !== assistant.id)]);
    setSelected(assistant);
    setEditing(false);
  };
  const openThread = (id: string | null) => {
    setThreadId(id);
    if (id) setThreads(rememberThread(api.key, id));
  };

  return (
    <div class="playground">
      <aside>
        <AssistantList
          assistants={assistants}
          selected={selected?.id ?? null}
          onSelect={(assistant) => ((chosen.current = true), setSelected(assistant), setEditing(true))}
          onNew={() => ((chosen.current = true), setSelected(null), setEditing(true))}
        />
        <ThreadList threads={threads} selected={threadId} onSelect={openThread} />
        <ErrorNote error={error} />
      </aside>
      {editing && <AssistantForm api={api} models={models} assistant={selected} onSaved={saved} />}
      <Chat api={api} assistant={selected} threadId={threadId} onThread={openThread} />
    </div>
  );
}
