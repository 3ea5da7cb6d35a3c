/**
 * A cluster's replication secret: 32 random bytes, written as 64 hex digits in a file only its
 * owner may read, the same on every member. Every replication datagram carries a MAC under it
 * (src/replication/datagram-mac.ts): a member takes only datagrams made with its own secret,
 * so whoever lacks the file cannot speak as a member, from wherever it sends.
 *
 *   bourse cluster        <data>/replication.key, beside cluster.json: made on its first run
 *                         (or the first run of a version that has it), kept after; a member
 *                         folder wiped (a lost disk) does not lose it
 *   bourse member         reads the file beside its --cluster file, or --secret <file>; with
 *                         --make-secret, makes it when missing (members that share one volume,
 *                         as compose's do: the first to start makes it, the others read it)
 *   by hand               openssl rand -hex 32 > replication.key; chmod 600; copy it to every
 *                         member (a secret manager's file will do)
 *
 * A member without the file does not start: it could not be heard, nor hear anyone (a member of
 * another secret is told of in the log, as refused datagrams, at a bounded rate).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { fsyncSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { clusterSecretFileName, replicationSecretBytes as secretBytes } from '../constants.js';
import { writeFailure } from '../journal/journal-errors.js';
import { UsageError } from './output.js';
import { exposedMode } from '../gateway/replace-file.js';

/** The secret's file beside a cluster file (where `bourse cluster` keeps it). */
export function secretBeside(clusterPath: string): string {
  return join(dirname(clusterPath), clusterSecretFileName);
}

/**
 * The secret in `path`. @throws UsageError naming the file and what to do, when it is missing,
 * unreadable or not 64 hex digits.
 */
export function readSecret(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'latin1').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UsageError(`replication secret ${path}: ${String(code)}`);
    throw new UsageError(
      `no replication secret at ${path}: every member of a cluster needs the same one ` +
        '(bourse cluster keeps it beside its cluster.json as replication.key; copy it from ' +
        'another member, give its path with --secret, or make one with openssl rand -hex 32)',
    );
  }
  if (!new RegExp(`^[0-9a-fA-F]{${secretBytes * 2}}$`).test(text)) {
    throw new UsageError(
      `replication secret ${path}: ${secretBytes * 2} hex digits expected (openssl rand -hex 32)`,
    );
  }
  return Buffer.from(text, 'hex');
}

/** Why the secret is exposed, or null: group or others may read or write it (as keys.json). */
export function secretExposure(path: string): string | null {
  const mode = exposedMode(path);
  if (mode === null) return null;
  return (
    `${path} is mode ${mode}: group or others may read the replication secret, and so ` +
    'speak as any member (chmod 600)'
  );
}

/**
 * Makes a new secret at `path` (mode 0600) unless a file is there; true when made. Safe when
 * members sharing a volume start at once: the file is written whole under another name, then
 * linked in place, which fails for all but the first (they then read the first's).
 */
export function makeSecret(path: string): boolean {
  if (statSync(path, { throwIfNoEntry: false }) !== undefined) return false;
  const temp = `${path}.${process.pid}.tmp`;
  try {
    rmSync(temp, { force: true }); // left by a crash of an earlier process of this pid
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(secretBytes).toString('hex') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw writeFailure(error, path);
  } finally {
    rmSync(temp, { force: true });
  }
}
