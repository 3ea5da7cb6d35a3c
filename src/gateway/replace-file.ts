/**
 * Replaces the file at `path` with `text` through a temporary file and a rename, so that a
 * reader never sees half of it. When a write fails (a full disk), the temporary file is removed
 * and the file stays as it was; the error is thrown as it came. For small configuration files:
 * the gateway's keys.json, and the CLI's cluster.json (the CLI may import the gateway; the
 * folders under both, stdx included, do no I/O).
 */
import { chmodSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';

export function replaceFile(path: string, text: string, mode?: number): void {
  const temp = `${path}.tmp`;
  try {
    writeFileSync(temp, text, mode === undefined ? undefined : { mode });
    if (mode !== undefined) chmodSync(temp, mode); // a temporary file left over keeps its mode
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * The mode of the file at `path` as an octal text (`0644`) when group or others may read or
 * write it; null when only its owner may, or when there is no file. For the files that hold
 * secrets: keys.json, and the cluster's replication secret.
 */
export function exposedMode(path: string): string | null {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined || (stat.mode & 0o077) === 0) return null;
  return `0${(stat.mode & 0o777).toString(8).padStart(3, '0')}`;
}
