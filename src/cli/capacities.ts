/**
 * The engine's capacities as flags of `bourse start`, `member` and `cluster` (which keeps them
 * in cluster.json for every member). A data folder keeps the capacities it ran with; a flag
 * raises one (never lowers it: engine-config.ts).
 */
import type { Command } from 'commander';
import { capacityFlags, type Capacities } from '../pipeline/capacity-flags.js';
import { engineConfigDefault } from '../constants.js';
import { asOption, parsePositive, UsageError } from './output.js';

/** Adds the capacity flags to `cmd`. */
export function capacityOptions(cmd: Command): Command {
  for (const [flag, field, what] of capacityFlags) {
    const parse = asOption(parsePositive)(`--${flag}`);
    const help = `${what} (a new folder: ${engineConfigDefault[field]}; may grow, not shrink)`;
    cmd.option(`--${flag} <n>`, help, parse);
  }
  return cmd;
}

/** The capacities given among a command's options (commander's camel-case names). */
export function capacitiesOf(options: object): Capacities {
  const given = options as Record<string, number | undefined>;
  const out: Capacities = {};
  for (const [flag, field] of capacityFlags) {
    const value = given[camel(flag)];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/**
 * Capacities as a cluster file holds them (`"capacities": {"accounts-max": 1000000}`): every
 * member runs with the same, a wiped member included. @throws UsageError naming what is wrong.
 */
export function capacitiesFromFile(value: unknown, path: string): Capacities {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`cluster file ${path}: "capacities" is an object of flag names`);
  }
  const out: Capacities = {};
  for (const [key, n] of Object.entries(value)) {
    const entry = capacityFlags.find(([flag]) => flag === key);
    if (entry === undefined) {
      const names = capacityFlags.map(([flag]) => flag).join(', ');
      throw new UsageError(`cluster file ${path}: capacity "${key}" is not one of ${names}`);
    }
    if (!Number.isSafeInteger(n) || (n as number) < 1) {
      throw new UsageError(`cluster file ${path}: capacity "${key}": a whole number, 1 or more`);
    }
    out[entry[1]] = n as number;
  }
  return out;
}

/** The reverse: capacities by flag name, for the cluster file. */
export function capacitiesToFile(capacities: Capacities): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [flag, field] of capacityFlags) {
    const value = capacities[field];
    if (value !== undefined) out[flag] = value;
  }
  return out;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
