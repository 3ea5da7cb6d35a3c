/** The cluster file's replication datagram size: taken within its bounds, refused past them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readClusterFile } from '../../../src/cli/cluster-file.js';
import { UsageError } from '../../../src/cli/output.js';
import { udpPayloadBytesMax, udpPayloadBytesDefault } from '../../../src/constants.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

const members = [
  { id: 1, host: '127.0.0.1', port: 9001, replicationPort: 9101 },
  { id: 2, host: '127.0.0.1', port: 9002, replicationPort: 9102 },
];

test('datagramPayloadBytes: none is the default; in bounds, taken; else refused', () => {
  const dir = tempDataDir();
  const file = join(dir, 'cluster.json');
  const read = (extra: object): ReturnType<typeof readClusterFile> => {
    writeFileSync(file, JSON.stringify({ members, ...extra }));
    return readClusterFile(file);
  };
  try {
    assert.equal(read({}).datagramPayloadBytes, undefined);
    for (const bytes of [udpPayloadBytesDefault, 8_932, udpPayloadBytesMax]) {
      assert.equal(read({ datagramPayloadBytes: bytes }).datagramPayloadBytes, bytes);
    }
    for (const bad of [udpPayloadBytesDefault - 1, udpPayloadBytesMax + 1, 9000.5, '9000', null]) {
      assert.throws(
        () => read({ datagramPayloadBytes: bad }),
        (e: unknown) =>
          e instanceof UsageError &&
          /"datagramPayloadBytes": .*: 1384 \(the default\) to 65467/.test(e.message),
      );
    }
  } finally {
    removeDir(dir);
  }
});
