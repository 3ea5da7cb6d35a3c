/** The cluster file: its datagram size and the member hosts no one can send to. */
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

// Peers and clients send to a member's host: 0.0.0.0 was taken, and each sent to its own machine.
test('a member host no one can send to is refused, naming the file, member and why', () => {
  const dir = tempDataDir();
  const file = join(dir, 'cluster.json');
  const read = (host2: string): ReturnType<typeof readClusterFile> => {
    const hosts = members.map((m) => (m.id === 2 ? { ...m, host: host2 } : m));
    writeFileSync(file, JSON.stringify({ members: hosts }));
    return readClusterFile(file);
  };
  const why: [string, RegExp][] = [
    ['0.0.0.0', /is the unspecified address: a peer sending to it reaches its own machine/],
    ['::', /is the unspecified address/],
    ['255.255.255.255', /is the broadcast address, not one member/],
    ['224.0.0.1', /is a multicast address \(224\.0\.0\.0\/4, ff00::\/8\), not one member/],
    ['239.255.255.250', /is a multicast address/],
  ];
  try {
    for (const [host, reason] of why) {
      assert.throws(
        () => read(host),
        (e: unknown) =>
          e instanceof UsageError &&
          e.message.startsWith(`cluster file ${file}: member 2: host ${host} `) &&
          reason.test(e.message),
      );
    }
    // Around the refused ranges, loopback, a private address, IPv6 (refused later) and names.
    for (const host of ['223.255.255.255', '240.0.0.1', '127.0.0.1', '10.1.2.3', '::1', 'm2']) {
      assert.equal(read(host).members[1].host, host);
    }
  } finally {
    removeDir(dir);
  }
});
