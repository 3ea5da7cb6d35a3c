/**
 * Settings from three places, each overriding the one before:
 *
 *   config file (--config <file>, JSON or YAML)  <  environment (BOURSE_*)  <  flags
 *
 * Every option that takes a value can come from the environment as BOURSE_ and its flag's
 * name in capitals (--snapshot-events: BOURSE_SNAPSHOT_EVENTS). The file holds the same names
 * as keys (`snapshot-events: 2000000`), at the top level, in a group's section (`drill:`,
 * `keys:`) or in a section named after the command (`start:`, `failover:` …, also inside its
 * group's), the nearest winning. A flag without a value (--bootstrap)
 * is true or false in the file, and 1/true/yes or 0/false/no/empty in the environment.
 * File values go through the flag's own parser, so a wrong one gets the same message, with
 * the file and key named; a key no option has is refused, with the keys allowed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { jsonKeyProblem } from '../gateway/json-body.js';
import { UsageError } from './output.js';
import { nearName } from './near-name.js';

/** The YAML parser, loaded for a YAML file only (35 ms of every start of `bourse` otherwise). */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

/**
 * Adds --config, and names each option's BOURSE_* variable (call after adding the options).
 * Commander reads variables only for options that had one when added, so `applySettings`
 * reads them; naming them here puts them in --help.
 */
export function configurable(cmd: Command): Command {
  for (const option of cmd.options) option.env(envName(option));
  cmd.option('--config <file>', 'settings file (JSON or YAML; flags and BOURSE_* override it)');
  return cmd;
}

export function envName(option: Option): string {
  return `BOURSE_${option.name().toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Fills in every option no flag gave: from its BOURSE_* variable, else from the file named by
 * --config. @throws UsageError for an unreadable file, an unknown key or a wrong value.
 */
export function applySettings(cmd: Command, commandNames: readonly string[]): void {
  origins.clear();
  for (const option of cmd.options) {
    const value = option.envVar === undefined ? undefined : process.env[option.envVar];
    if (value === undefined || !fromDefault(cmd, option)) continue;
    const attribute = option.attributeName();
    cmd.setOptionValueWithSource(attribute, fromEnv(option.envVar!, option, value), 'env');
    origins.set(option.long ?? '', option.envVar!);
  }
  const file = cmd.getOptionValue('config') as string | undefined;
  if (file === undefined) return;
  const group = cmd.parent?.parent != null ? cmd.parent.name() : null;
  const settings = readSettings(file, [group, cmd.name()], commandNames);
  for (const [key, value] of Object.entries(settings)) {
    const option = cmd.options.find((o) => o.name() === key && o.name() !== 'config');
    if (option === undefined) {
      const allowed = cmd.options.map((o) => o.name()).filter((n) => n !== 'config');
      const near = nearName(key, allowed);
      const hint = near === undefined ? '' : `; did you mean '${near}'?`;
      throw new UsageError(
        `${file}: '${key}' is not a setting of ${cmd.name()} (${allowed.join(', ')})${hint}`,
      );
    }
    if (!fromDefault(cmd, option)) continue; // a flag or BOURSE_* wins
    const where = `${file}: ${key}`;
    cmd.setOptionValueWithSource(option.attributeName(), parsed(where, option, value), 'config');
    origins.set(option.long ?? '', where);
  }
}

/** Where each setting not given as a flag came from (`--window` → `bourse.yaml: window`). */
const origins = new Map<string, string>();

/**
 * `message` of a refusal with the origin of the setting it starts with (`--window: ...`), when
 * that came from a file or the environment: a value its parser takes but a later check refuses
 * (`window: 0`) was told as if it had been a flag.
 */
export function withOrigin(message: string): string {
  const flag = /^(--[a-z0-9-]+)[: ]/.exec(message)?.[1];
  const origin = flag === undefined ? undefined : origins.get(flag);
  return origin === undefined ? message : `${origin}: ${message}`;
}

/** A flag without a value (--bootstrap) is 1/true/yes or 0/false/no/empty in the environment. */
function fromEnv(name: string, option: Option, value: string): unknown {
  if (option.required || option.optional) return parsed(name, option, value);
  const text = value.trim().toLowerCase();
  if (['1', 'true', 'yes'].includes(text)) return true;
  if (['0', 'false', 'no', ''].includes(text)) return false;
  throw new UsageError(`${name}: 1, true, yes, or 0, false, no, empty; not '${value}'`);
}

function fromDefault(cmd: Command, option: Option): boolean {
  const source = cmd.getOptionValueSource(option.attributeName());
  return source === undefined || source === 'default';
}

/**
 * The settings for a command from `file`: its top-level keys, then its group's section (`drill:`
 * for `drill failover`; a group's section may hold its commands' own), then the command's,
 * each overriding the one before. A `drill:` section was refused as an unknown setting.
 */
function readSettings(
  file: string,
  [group, command]: [string | null, string],
  commandNames: readonly string[],
): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--config: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  let document: unknown;
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  try {
    document = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: ${file} is not valid: ${(error as Error).message}`);
  }
  // JSON.parse keeps a key's last value: `{"port": 9001, ..., "port": 9002}` ran on 9002
  // silently (YAML's parser refuses a key twice already).
  const keyProblem = yaml ? null : jsonKeyProblem(text);
  if (keyProblem !== null) throw new UsageError(`--config: ${file} is not valid: ${keyProblem}`);
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new UsageError(`--config: ${file} must hold a map of settings`);
  }
  const settings = ownKeys(document as Record<string, unknown>, commandNames);
  const ofGroup = group === null ? {} : section(file, document, group);
  Object.assign(settings, ownKeys(ofGroup, commandNames), section(file, ofGroup, command));
  return Object.assign(settings, section(file, document, command));
}

/** The keys of `map` that are settings, not sections. */
function ownKeys(
  map: Record<string, unknown>,
  sections: readonly string[],
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).filter(([key]) => !sections.includes(key)));
}

/** `map`'s section `name` ({} when absent). @throws UsageError when it is not a map. */
function section(file: string, map: object, name: string): Record<string, unknown> {
  const found = (map as Record<string, unknown>)[name];
  if (found === undefined) return {};
  if (typeof found !== 'object' || found === null || Array.isArray(found)) {
    throw new UsageError(`--config: ${file}: '${name}' must hold a map of settings`);
  }
  return found as Record<string, unknown>;
}

/** `value` through the option's own parser; `where` names its origin in an error. */
function parsed(where: string, option: Option, value: unknown): unknown {
  if (!option.required && !option.optional) {
    // Quoted: a text "false" was refused as 'true or false, not false'.
    if (typeof value !== 'boolean') {
      throw new UsageError(`${where}: true or false (no quotes), not ${JSON.stringify(value)}`);
    }
    return value;
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new UsageError(`${where}: a number or a text, not ${JSON.stringify(value)}`);
  }
  if (option.parseArg === undefined) return String(value);
  try {
    return option.parseArg(String(value), undefined);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
}
