/**
 * Where a drill runs: its folder and its members' ports.
 *
 *   folder: a new one in TMPDIR, removed after a pass (kept after a failure, or with
 *           BOURSE_DRILL_KEEP=1); or the operator's --data (new or empty), kept always, for
 *           `bourse verify --data <dir>/member-<id>` and the members' logs
 *   ports:  free ones the kernel picks; or from --base-port, as `bourse cluster` lays them out
 *           (client ports n, n+1, ...; replication 100 above), checked before anything starts
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clusterFileName, clusterSecretFileName } from '../constants.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { createFolder } from '../journal/make-dirs.js';
import { makeSecret } from './cluster-secret.js';
import { checkBasePort, localCluster, type ClusterFile } from './cluster-file.js';
import { ExitError, UsageError } from './output.js';
import { freePort, portsTaken } from './ports.js';

/** A drill's folder, and whether it is kept after a pass (given, or BOURSE_DRILL_KEEP=1). */
export interface DrillPlace {
  dir: string;
  kept: boolean;
}

/**
 * Checks --data before anything is made: a folder that holds anything is refused (a drill
 * forms a new cluster; an old drill's members would find their folders full). @throws
 * UsageError
 */
export function checkDrillData(data: string | undefined): void {
  if (data === undefined || !existsSync(data)) return;
  if (!statSync(data).isDirectory()) throw new UsageError(`--data: ${data} is a file`);
  if (readdirSync(data).length > 0) {
    throw new UsageError(
      `--data: ${data} is not empty: a drill forms a new cluster there (give a new or empty ` +
        'folder; it is kept after the drill)',
    );
  }
}

/** The drill's folder: --data (made if missing), else a new one in TMPDIR (exit 73 if not). */
export function drillFolder(prefix: string, data?: string): DrillPlace {
  if (data !== undefined) {
    checkDrillData(data);
    createFolder(data);
    return { dir: resolve(data), kept: true };
  }
  try {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    return { dir, kept: process.env.BOURSE_DRILL_KEEP === '1' };
  } catch (error) {
    const why = (error as Error).message;
    throw new StorageError(
      StorageCode.DataUnwritable,
      `cannot make the drill's folder in ${tmpdir()} (TMPDIR): ${why}`,
    );
  }
}

/**
 * Removes the folder of a drill that passed, unless it is kept; says where it is otherwise (a
 * failed drill's is kept whatever: its members' logs and folders say why).
 */
export function leaveFolder(place: DrillPlace, failed: boolean): void {
  if (failed) {
    process.stderr.write(`drill: failed; the members' logs and folders are in ${place.dir}\n`);
  } else if (place.kept) {
    process.stderr.write(`drill: kept ${place.dir} (each member's folder and log)\n`);
  } else rmSync(place.dir, { recursive: true, force: true });
}

/**
 * The drill's members on loopback: from --base-port, checked (range, then each port bound and
 * let go: exit 69 naming those taken, nothing started), else on free ports.
 */
export async function drillMembers(nodes: number, basePort?: number): Promise<ClusterFile> {
  if (basePort !== undefined) {
    checkBasePort(nodes, basePort);
    const file = localCluster(nodes, basePort);
    const taken = await portsTaken(file.members);
    if (taken.length > 0) {
      throw new ExitError(
        `cannot bind ${taken.join('; ')}: the drill started nothing (another --base-port, or ` +
          'free them; `ss -tulpn` shows who holds a port)',
        69,
      );
    }
    return file;
  }
  const file: ClusterFile = { members: [] };
  for (let id = 1; id <= nodes; id++) {
    const port = await freePort('tcp');
    const replicationPort = await freePort('udp');
    file.members.push({ id, host: '127.0.0.1', port, replicationPort });
  }
  return file;
}

/** Writes the drill's cluster file, and beside it the secret its members read there. */
export function writeDrillCluster(dir: string, file: ClusterFile): void {
  writeFileSync(join(dir, clusterFileName), JSON.stringify(file, null, 2) + '\n');
  makeSecret(join(dir, clusterSecretFileName));
}
