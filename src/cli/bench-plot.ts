/**
 * The HDR percentile plot (as HdrHistogram's plotter draws it) of a bench's latency histogram,
 * as an SVG. The x axis is "how rare": 1 / (1 − p) on a log scale, so 90%, 99%, 99.9% … are
 * evenly spaced and the tail gets as much room as the median; y is the latency, linear.
 *
 *   latency ▲                                   ╭─ max
 *           │                              ╭────╯
 *           │ ─────────────────────────────╯
 *           └──────┬──────┬──────┬──────┬──────► percentile
 *                 90%    99%   99.9%  99.99%
 */
import * as hdr from 'hdr-histogram-js';

export interface PercentilePoint {
  percentile: number;
  value: number;
}

/** Points along the curve, from the median region to the largest value recorded. */
export function percentilePoints(histogram: hdr.Histogram): PercentilePoint[] {
  const points: PercentilePoint[] = [];
  const count = histogram.totalCount;
  if (count === 0) return points;
  const xMax = Math.min(6, Math.log10(count));
  for (let x = 0; x <= xMax + 1e-9; x += 0.05) {
    const percentile = 100 * (1 - 10 ** -x);
    points.push({ percentile, value: histogram.getValueAtPercentile(percentile) });
  }
  points.push({ percentile: 100, value: histogram.maxValue });
  return points;
}

const width = 800;
const height = 420;
const left = 80;
const right = 44;
const top = 56;
const bottom = 50;

/** The plot; `unit` is what a recorded count means ('us' or 'ns'). */
export function percentilePlot(
  title: string,
  subtitle: string,
  unit: 'us' | 'ns',
  points: readonly PercentilePoint[],
): string {
  const max = Math.max(1, ...points.map((p) => p.value));
  const scale = displayScale(max, unit);
  const yTop = niceCeiling(max / scale.divide);
  const xs = points.map((p) => rarity(p.percentile));
  const xTop = Math.max(1, Math.ceil(Math.max(...xs.filter(Number.isFinite))));
  const px = (x: number): number => left + (Math.min(x, xTop) / xTop) * (width - left - right);
  const py = (v: number): number => top + (1 - v / scale.divide / yTop) * (height - top - bottom);
  const path = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${px(xs[i]).toFixed(1)},${py(p.value).toFixed(1)}`)
    .join(' ');
  const grid: string[] = [];
  for (let x = 0; x <= xTop; x++) {
    const label = x === 0 ? '0%' : `${(100 * (1 - 10 ** -x)).toFixed(Math.max(0, x - 2))}%`;
    grid.push(line(px(x), top, px(x), height - bottom), text(px(x), height - bottom + 18, label));
  }
  for (let k = 0; k <= 5; k++) {
    const v = (yTop * k) / 5;
    const y = py(v * scale.divide);
    grid.push(line(left, y, width - right, y), text(left - 8, y + 4, fmt(v), 'end'));
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    text(left, 22, escape(title), 'start', 15),
    text(left, 40, escape(subtitle), 'start', 11),
    ...grid,
    `<path d="${path}" fill="none" stroke="#1f6feb" stroke-width="2"/>`,
    text((left + width - right) / 2, height - 10, 'percentile'),
    `<text x="16" y="${(top + height - bottom) / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 16 ${(top + height - bottom) / 2})">latency (${scale.label})</text>`,
    '</svg>',
  ].join('\n');
}

/** 1 / (1 − p): 0 at the median's side, 1 at 90%, 2 at 99% … (log10). */
function rarity(percentile: number): number {
  return percentile >= 100 ? Infinity : Math.log10(1 / (1 - percentile / 100));
}

function displayScale(max: number, unit: 'us' | 'ns'): { divide: number; label: string } {
  if (unit === 'ns')
    return max >= 10_000 ? { divide: 1_000, label: 'µs' } : { divide: 1, label: 'ns' };
  return max >= 10_000 ? { divide: 1_000, label: 'ms' } : { divide: 1, label: 'µs' };
}

/** 1, 2 or 5 times a power of ten, at or above `v`. */
function niceCeiling(v: number): number {
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) if (step * power >= v) return step * power;
  return 10 * power;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1);
}

function line(x1: number, y1: number, x2: number, y2: number): string {
  const from = `x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}"`;
  return `<line ${from} x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="#ddd"/>`;
}

function text(x: number, y: number, body: string, anchor = 'middle', size = 12): string {
  const at = `x="${x.toFixed(1)}" y="${y.toFixed(1)}"`;
  return `<text ${at} text-anchor="${anchor}" font-size="${size}">${body}</text>`;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
