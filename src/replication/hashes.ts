/** Hashes as the replication layer names them: lower-case hex of the journal's SHA-256. */
import { genesisHash } from '../journal/journal-codec.js';
import { clusterMembersMax } from '../constants.js';

/** The `prevHash` of the first entry of every journal. */
export const genesisHashHex = Buffer.from(genesisHash).toString('hex');

/**
 * A cluster's id: the first 32 bits of its first entry's hash (never 0, which stands for "not
 * known yet"). A first entry is unique to the cluster that committed it, so the id tells
 * clusters apart with no setting to keep unique: one member's folder copied into another
 * cluster, or a folder left from an earlier forming of the same cluster, is of another id.
 */
export function clusterIdOf(firstHash: string): number {
  return Number.parseInt(firstHash.slice(0, 8), 16) || 1;
}

/** A cluster id as operators see it (logs, /health). */
export function clusterIdText(id: number): string {
  return id.toString(16).padStart(8, '0');
}

/** Bit `id - 1` set for each member id (ids are 1 to clusterMembersMax: one byte). */
export function membersMaskOf(ids: readonly number[]): number {
  let mask = 0;
  for (const id of ids) mask |= 1 << (id - 1);
  return mask;
}

/** The member ids a mask names, as operators read them: "1,2,3". */
export function membersText(mask: number): string {
  const ids: number[] = [];
  for (let id = 1; id <= clusterMembersMax; id++) if ((mask & (1 << (id - 1))) !== 0) ids.push(id);
  return ids.join(',');
}
