/** A local cluster's folder for `bourse cluster` tests: its cluster.json on free ports. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSecret } from '../../src/cli/cluster-secret.js';
import type { ClusterFile } from '../../src/cli/cluster-file.js';
import { freePort } from '../../src/cli/ports.js';

/** Writes a 3-member cluster.json in `dir` (and, with `secret`, its replication.key). */
export async function writeClusterFile(dir: string, secret = false): Promise<ClusterFile> {
  const file: ClusterFile = { members: [] };
  for (let id = 1; id <= 3; id++) {
    const port = await freePort('tcp');
    file.members.push({ id, host: '127.0.0.1', port, replicationPort: await freePort('udp') });
  }
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(file));
  if (secret) makeSecret(join(dir, 'replication.key'));
  return file;
}
