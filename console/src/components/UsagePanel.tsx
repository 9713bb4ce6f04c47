import { useEffect, useState } from "preact/hooks";
import { messageOf, type Api } from "../api";
import type { UsageBucket, UsageResult } from "../types";
import { ErrorNote } from "./ErrorNote";
import { colorOf, UsageChart, type ChartBucket } from "./UsageChart";

// Each range the page offers: its length, the Usage API's bucket width for it, and how a bucket's
// start is shown.
const RANGES = {
  "1h": { seconds: 3600, width: "1m", limit: 60, clock: true },
  "24h": { seconds: 86400, width: "1h", limit: 24, clock: true },
  "7d": { seconds: 7 * 86400, width: "1d", limit: 7, clock: false },
  "30d": { seconds: 30 * 86400, width: "1d", limit: 31, clock: false },
} as const;
type Range = keyof typeof RANGES;
type Split = "project" | "model";
type Metric = "tokens" | "requests";

interface Props {
  api: Api;
  projectName: (id: string | null) => string;
}

/** Tokens and requests per bucket from the Usage API, split by project or by model. */
export function UsagePanel({ api, projectName }: Props) {
  const [range, setRange] = useState<Range>("24h");
  const [split, setSplit] = useState<Split>("project");
  const [metric, setMetric] = useState<Metric>("tokens");
  const [buckets, setBuckets] = useState<UsageBucket[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = () => {
    setError(null);
    return allBuckets(api, range).then(setBuckets, (failure) => setError(messageOf(failure)));
  };
  useEffect(() => void reload(), [api, range]);

  const key = (r: UsageResult) => (split === "project" ? r.project_id ?? "" : r.model ?? "");
  const value = (r: UsageResult) => (metric === "tokens" ? r.input_tokens + r.output_tokens : r.num_model_requests);
  const series = [...new Set((buckets ?? []).flatMap((b) => b.results.map(key)))].sort();
  const chart: ChartBucket[] = (buckets ?? []).map((b) => ({ start: b.start_time, values: sums(b.results, key, value) }));
  const label = (s: string) => (split === "project" ? projectName(s) : s);
  const time = (start: number) => timeLabel(start, RANGES[range].clock);

  return (
    <section class="card usage" data-testid="usage">
      <header class="row">
        <h2>Usage</h2>
        <div class="row">
          <select value={range} onChange={(e) => setRange(e.currentTarget.value as Range)} data-testid="usage-range">
            <option value="1h">last hour (per minute)</option>
            <option value="24h">last 24 hours (per hour)</option>
            <option value="7d">last 7 days (per day)</option>
            <option value="30d">last 30 days (per day)</option>
          </select>
          <select value={split} onChange={(e) => setSplit(e.currentTarget.value as Split)} data-testid="usage-split">
            <option value="project">per project</option>
            <option value="model">per model</option>
          </select>
          <select value={metric} onChange={(e) => setMetric(e.currentTarget.value as Metric)} data-testid="usage-metric">
            <option value="tokens">tokens</option>
            <option value="requests">requests</option>
          </select>
          <button class="link" onClick={() => void reload()} data-testid="usage-refresh">
            refresh
          </button>
        </div>
      </header>
      <ErrorNote error={error} />
      {buckets && (
        <>
          <UsageChart buckets={chart} series={series} label={label} time={time} unit={metric} />
          <ul class="legend">
            {series.map((s, i) => (
              <li key={s}>
                <span class="swatch" style={{ background: colorOf(i) }} /> {label(s)}
              </li>
            ))}
          </ul>
          <UsageTable buckets={buckets} projectName={projectName} />
        </>
      )}
    </section>
  );
}

/** The range's totals per project and model (the chart's data, as numbers). */
function UsageTable({ buckets, projectName }: { buckets: UsageBucket[]; projectName: (id: string | null) => string }) {
  const rows = new Map<string, UsageResult>();
  for (const r of buckets.flatMap((b) => b.results)) {
    const id = `${r.project_id}\u0000${r.model}`;
    const row = rows.get(id) ?? { ...r, input_tokens: 0, output_tokens: 0, num_model_requests: 0 };
    row.input_tokens += r.input_tokens;
    row.output_tokens += r.output_tokens;
    row.num_model_requests += r.num_model_requests;
    rows.set(id, row);
  }
  if (rows.size === 0) return <p class="muted">No model calls in this range.</p>;
  return (
    <table class="data-table">
      <thead>
        <tr>
          <th>project</th>
          <th>model</th>
          <th>input tokens</th>
          <th>output tokens</th>
          <th>requests</th>
        </tr>
      </thead>
      <tbody>
        {[...rows.values()].map((r) => (
          <tr key={`${r.project_id}/${r.model}`} data-testid="usage-row" data-project={r.project_id ?? ""} data-model={r.model ?? ""}>
            <td>{projectName(r.project_id)}</td>
            <td>{r.model}</td>
            <td data-testid="usage-input">{r.input_tokens}</td>
            <td data-testid="usage-output">{r.output_tokens}</td>
            <td data-testid="usage-requests">{r.num_model_requests}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

async function allBuckets(api: Api, range: Range): Promise<UsageBucket[]> {
  const { seconds, width, limit } = RANGES[range];
  const query = new URLSearchParams({
    start_time: String(Math.floor(Date.now() / 1000) - seconds + 1),
    bucket_width: width,
    limit: String(limit),
  });
  query.append("group_by", "project_id");
  query.append("group_by", "model");
  const buckets: UsageBucket[] = [];
  for (;;) {
    const page = await api.usage(query);
    buckets.push(...page.data);
    if (!page.has_more || !page.next_page) return buckets;
    query.set("page", page.next_page);
  }
}

function sums(results: UsageResult[], key: (r: UsageResult) => string, value: (r: UsageResult) => number) {
  const values: Record<string, number> = {};
  for (const r of results) values[key(r)] = (values[key(r)] ?? 0) + value(r);
  return values;
}

function timeLabel(start: number, clock: boolean): string {
  const iso = new Date(start * 1000).toISOString(); // UTC, as the buckets are
  return clock ? iso.slice(11, 16) : iso.slice(5, 10);
}
