import { useState } from "preact/hooks";
import { messageOf } from "../api";
import { signIn, type Session } from "../session";
import { ErrorNote } from "./ErrorNote";

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(key.trim()));
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="sign-in card" onSubmit={submit}>
      <h1>assistantd console</h1>
      <p>Sign in with a project API key, or the admin key for the admin pages.</p>
      <input
        type="password"
        placeholder="sk-…"
        value={key}
        onInput={(e) => setKey(e.currentTarget.value)}
        data-testid="api-key-input"
        autoFocus
      />
      <button type="submit" disabled={busy} data-testid="sign-in">
        Sign in
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
