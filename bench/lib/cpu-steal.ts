/**
 * CPU steal: the share of this machine's CPU time that the hypervisor gave to other guests
 * (the `steal` column of /proc/stat, summed over every core). On a shared VM it moves from 0 to
 * 40% within an hour, and every rate and percentile moves with it, so each bench reports the
 * steal over its own run: figures from runs with very different steal are not comparable.
 *
 *   /proc/stat:  cpu  user nice system idle iowait irq softirq steal guest guest_nice
 */
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  steal: number;
  total: number;
}

/** The machine's cumulative CPU times (clock ticks), or null where /proc/stat is missing. */
export function readCpuTimes(): CpuTimes | null {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return null;
  // guest and guest_nice are already counted in user and nice: the first eight columns only.
  const columns = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (columns.length < 8 || columns.some((n) => !Number.isFinite(n))) return null;
  return { steal: columns[7], total: columns.reduce((sum, n) => sum + n, 0) };
}

/** Steal since `from` as a percentage of all CPU time since then (one decimal), or null. */
export function stealPercentSince(from: CpuTimes | null, to = readCpuTimes()): number | null {
  if (from === null || to === null) return null;
  const total = to.total - from.total;
  if (total <= 0) return 0;
  return Math.round(((to.steal - from.steal) / total) * 1000) / 10;
}
