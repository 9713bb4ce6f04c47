import { useEffect, useState } from "preact/hooks";
import { Nav } from "./components/Nav";
import { SignIn } from "./components/SignIn";
import { Admin } from "./pages/Admin";
import { Files } from "./pages/Files";
import { Inspector } from "./pages/Inspector";
import { Playground } from "./pages/Playground";
import { usePath } from "./router";
import { forget, rememberedKey, signIn, type Session } from "./session";

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(rememberedKey() !== null);
  const path = usePath();

  useEffect(() => {
    const key = rememberedKey();
    if (!key) return;
    signIn(key)
      .then(setSession)
      .catch(forget)
      .finally(() => setRestoring(false));
  }, []);

  if (restoring) return <p class="muted">Signing in…</p>;
  if (!session) return <SignIn onSignedIn={setSession} />;
  const signOut = () => {
    forget();
    setSession(null);
  };
  return (
    <>
      <Nav role={session.role} onSignOut={signOut} />
      <main>{page(session, path)}</main>
    </>
  );
}

function page(session: Session, path: string) {
  const { api, role } = session;
  if (role === "admin") return <Admin api={api} />;
  if (path.startsWith("/runs")) {
    const [, , threadId, runId] = path.split("/");
    return <Inspector api={api} threadId={threadId} runId={runId} />;
  }
  if (path.startsWith("/files")) return <Files api={api} />;
  return <Playground api={api} />;
}
