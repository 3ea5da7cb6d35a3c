/**
 * A `cp -a` of a member's folder carries no backup mark, and the member id in it is its own:
 * started as that member (beside the original, or after it went on acknowledging), it ran
 * without a word, two folders voting and acknowledging as one member. Each member start now
 * notes its journal file (its inode), and a copy, another file, is refused unless the operator
 * says the folder moved (`--folder-moved`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../src/cli/ports.js';
import { exitCodeOf, StorageCode, type StorageError } from '../../src/journal/journal-errors.js';
import { ClusterNode, type ClusterMember } from '../../src/pipeline/cluster-node.js';
import { secretBytes } from '../../src/replication/datagram-mac.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

test('a cp -a copy of a member’s folder is refused as that member, unless moved', async () => {
  const own = tempDataDir();
  const copy = tempDataDir();
  const members: ClusterMember[] = [];
  for (const id of [1, 2, 3]) {
    const port = await freePort('tcp');
    members.push({ id, host: '127.0.0.1', port, replicationPort: await freePort('udp') });
  }
  const secret = randomBytes(secretBytes);
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);
  const run = async (dataDir: string, folderMoved = false): Promise<void> => {
    const options = { id: 1, members, dataDir, bootstrap: true, secret, folderMoved, log };
    const member = await ClusterNode.start({ ...options, config: smallConfig });
    await member.stop({ handOver: false });
  };
  try {
    await run(own); // member 1's folder notes its id, and its file
    removeDir(copy);
    const cp = spawnSync('cp', ['-a', own, copy]);
    assert.equal(cp.status, 0, String(cp.stderr));
    await assert.rejects(run(copy), (e: StorageError) => {
      assert.equal(e.code, StorageCode.MemberCopy);
      assert.equal(exitCodeOf(e.code), 65);
      assert.match(e.message, /is a copy of member 1's folder: its journal.mdb is not the file/);
      assert.match(e.message, /start it with --folder-moved/);
      return true;
    });
    await run(own); // its own folder still starts
    await run(copy, true); // moved: taken, its file noted
    const taken = `member 1: --folder-moved: ${copy} taken as member 1's folder`;
    assert.ok(
      lines.some((l) => l.startsWith(taken)),
      lines.join('\n'),
    );
    await run(copy); // from then on, without the flag
    await run(copy, true);
    const notNeeded = `member 1: --folder-moved, but ${copy} is member 1's own folder`;
    assert.ok(
      lines.some((l) => l.startsWith(notNeeded)),
      lines.join('\n'),
    );
  } finally {
    removeDir(own);
    removeDir(copy);
  }
});
