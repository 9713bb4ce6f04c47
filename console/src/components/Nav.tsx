import type { Role } from "../session";
import { Link } from "./Link";

export function Nav({ role, onSignOut }: { role: Role; onSignOut: () => void }) {
  return (
    <nav class="nav">
      <strong>assistantd</strong>
      {role === "project" ? (
        <>
          <Link to="/">Playground</Link>
          <Link to="/runs" testid="nav-inspector">
            Run inspector
          </Link>
          <Link to="/files">Files &amp; vector stores</Link>
        </>
      ) : (
        <Link to="/admin">Admin</Link>
      )}
      <span class="grow" />
      <span class="muted">{role === "admin" ? "admin key" : "project key"}</span>
      <button class="link" onClick={onSignOut} data-testid="sign-out">
        Sign out
      </button>
    </nav>
  );
}
