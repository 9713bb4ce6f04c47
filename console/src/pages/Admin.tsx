import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import { ErrorNote } from "../components/ErrorNote";
import { LiveRuns } from "../components/LiveRuns";
import { ProjectPanel } from "../components/ProjectPanel";
import { UsagePanel } from "../components/UsagePanel";
import type { Project } from "../types";

/** The Administration API, with the admin key: projects, their keys and rate limits; usage per
 * project and model over time; the runs in progress across projects. */
export function Admin({ api }: { api: Api }) {
  const [projects, setProjects] = useState<Project[]>([]);
  const [name, setName] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = () => api.listProjects().then((list) => setProjects(list.data), (f) => setError(messageOf(f)));
  useEffect(() => void reload(), [api]);

  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const project = await api.createProject(name);
      setName("");
      setOpen(project.id);
      await reload();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  const projectName = (id: string | null) => projects.find((p) => p.id === id)?.name ?? id ?? "(no project)";

  return (
    <>
      <section class="card admin">
        <header class="row">
          <h2>Projects</h2>
          <form class="row" onSubmit={create}>
            <input placeholder="project name" value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="project-name" />
            <button type="submit" data-testid="project-create">
              Create
            </button>
          </form>
        </header>
        <ErrorNote error={error} />
        <ul class="list">
          {projects.map((project) => (
            <li key={project.id} data-testid="project-row">
              <button class="item" onClick={() => setOpen(open === project.id ? null : project.id)}>
                {project.name} <span class="muted">{project.id}</span> <span class={`badge ${project.status}`}>{project.status}</span>
              </button>
              {open === project.id && <ProjectPanel api={api} project={project} onChanged={reload} />}
            </li>
          ))}
        </ul>
      </section>
      <UsagePanel api={api} projectName={projectName} />
      <LiveRuns api={api} projectName={projectName} />
    </>
  );
}
