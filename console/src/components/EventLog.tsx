import type { StreamEvent } from "../types";

/** The run's events in the order they came, with when (relative to the first). */
export function EventLog({ events }: { events: StreamEvent[] }) {
  const start = events[0]?.at ?? 0;
  return (
    <section class="card">
      <h3>Events ({events.length})</h3>
      <table class="events">
        <tbody>
          {events.map((event, index) => (
            <tr key={index} data-testid="run-event">
              <td class="muted">{event.id ?? ""}</td>
              <td>{event.event}</td>
              <td class="muted">+{Math.round(event.at - start)} ms</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
