import { table } from '../../src/cli/output.js';
import { readCpuTimes, stealPercentSince } from './cpu-steal.js';

/** The machine's CPU times when the bench started (this module loads with it). */
const startedAt = readCpuTimes();

/**
 * Prints rows as an aligned text table (bench output for people; JSON follows for machines):
 * the CLI's table (numbers to the right, text to the left), its numbers with separators.
 */
export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const shown = rows.map((row) => Object.fromEntries(columns.map((c) => [c, format(row[c])])));
  console.log(`\n${title}\n${table(shown, true)}`);
}

function format(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  node: string;
  /** CPU steal over the bench's run so far, in percent (cpu-steal.ts); null where unknown. */
  cpu_steal_pct: number | null;
}

/**
 * Machine description for results: CPU model, cores, memory, Node version, and the CPU steal
 * since the bench started (call it at the end of the run).
 */
export async function machine(): Promise<Machine> {
  const os = await import('node:os');
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    cpu_steal_pct: stealPercentSince(startedAt),
  };
}

/** "AMD EPYC, 2 cores, Node v20.20.2, 12.5% CPU steal": for table titles. */
export function machineLine(host: Machine): string {
  const steal = host.cpu_steal_pct === null ? '' : `, ${host.cpu_steal_pct}% CPU steal`;
  return `${host.cpu}, ${host.cores} cores, Node ${host.node}${steal}`;
}
