// Stacked bars of one value per bucket and series, in plain SVG: the chart needs bars, a scale
// and tooltips only, which cost ~80 lines here against a chart library's tens of kB of bundle.

export interface ChartBucket {
  start: number;
  values: Record<string, number>; // series key -> value
}

interface Props {
  buckets: ChartBucket[];
  series: string[];
  label: (series: string) => string;
  time: (start: number) => string;
  unit: string;
}

const WIDTH = 720;
const HEIGHT = 200;
const LEFT = 48; // room for the scale
const BOTTOM = 18; // room for the time labels
const COLORS = ["#2456d6", "#e8871e", "#2e9e5b", "#b3261e", "#8a6df0", "#0f8a96", "#c2489c", "#6b7385"];

export function colorOf(index: number): string {
  return COLORS[index % COLORS.length];
}

export function UsageChart({ buckets, series, label, time, unit }: Props) {
  const totals = buckets.map((b) => series.reduce((sum, s) => sum + (b.values[s] ?? 0), 0));
  const top = Math.max(1, ...totals);
  const plotHeight = HEIGHT - BOTTOM;
  const slot = (WIDTH - LEFT) / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.8);
  const every = Math.ceil(buckets.length / 8); // at most ~8 time labels
  return (
    <svg class="usage-chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`usage in ${unit}`} data-testid="usage-chart">
      <text x={LEFT - 4} y={10} text-anchor="end" class="axis">
        {top.toLocaleString()}
      </text>
      <text x={LEFT - 4} y={plotHeight} text-anchor="end" class="axis">
        0
      </text>
      <line x1={LEFT} y1={plotHeight} x2={WIDTH} y2={plotHeight} class="axis-line" />
      {buckets.map((bucket, i) => {
        const x = LEFT + i * slot + (slot - barWidth) / 2;
        let y = plotHeight;
        return (
          <g key={bucket.start}>
            {series.map((s, j) => {
              const value = bucket.values[s] ?? 0;
              if (!value) return null;
              const height = (value / top) * (plotHeight - 8);
              y -= height;
              return (
                <rect key={s} x={x} y={y} width={barWidth} height={height} fill={colorOf(j)} data-testid="usage-bar" data-series={s} data-value={value}>
                  <title>{`${time(bucket.start)} · ${label(s)}: ${value.toLocaleString()} ${unit}`}</title>
                </rect>
              );
            })}
            {i % every === 0 && (
              <text x={x + barWidth / 2} y={HEIGHT - 4} text-anchor="middle" class="axis">
                {time(bucket.start)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
