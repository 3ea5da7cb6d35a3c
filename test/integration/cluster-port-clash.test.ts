/**
 * A member whose port is taken (EADDRINUSE) fails to start. Its id, its member flag and its
 * capacities were stored in its folder before the ports were bound: a new folder was left
 * member 1's, so `bourse start` refused it ever after ("belongs to a cluster member, member 1")
 * and `bourse member --id 2` refused it as another member's. A start that fails before the
 * member served now leaves the folder as it found it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/cli/ports.js';
import { bindFailure } from '../../src/cli/output.js';
import { closeJournalDb, openJournalDb, storedConfig } from '../../src/journal/journal-db.js';
import { refuseLostJournal } from '../../src/journal/lost-journal.js';
import {
  memberCopyRefusal,
  memberOfFolder,
  noteMemberFile,
  singleNodeRefusal,
} from '../../src/journal/member-folder.js';
import { ClusterNode, type ClusterMember } from '../../src/pipeline/cluster-node.js';
import { claimMemberFolder } from '../../src/replication/replica-store.js';
import { secretBytes } from '../../src/replication/datagram-mac.js';
import { standbyLogFile } from '../../src/replication/standby-log.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

async function membersOf(): Promise<ClusterMember[]> {
  const members: ClusterMember[] = [];
  for (const id of [1, 2, 3]) {
    const port = await freePort('tcp');
    members.push({ id, host: '127.0.0.1', port, replicationPort: await freePort('udp') });
  }
  return members;
}

/** Member 1 started on `dir` (a new folder, unless `more` says): refused, the port clash said. */
async function refusedStart(
  dir: string,
  members: ClusterMember[],
  said: RegExp,
  more: { folderMoved?: boolean } = {},
): Promise<string[]> {
  const lines: string[] = [];
  const start = ClusterNode.start({
    id: 1,
    members,
    dataDir: dir,
    bootstrap: true,
    capacities: { accountCountMax: 300_000 },
    secret: randomBytes(secretBytes),
    log: (line) => void lines.push(line),
    ...more,
  });
  await assert.rejects(start, (e: Error) => {
    assert.match(bindFailure(e) ?? e.message, said);
    return true;
  });
  return lines;
}

/** The folder names no member, keeps no capacities: any member, or a single node, takes it. */
async function leftAsItWas(dir: string, lines: string[]): Promise<void> {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    assert.equal(memberOfFolder(db), null, 'no member id, no member flag');
    assert.equal(singleNodeRefusal(db, dir), null, '`bourse start` takes it');
    assert.doesNotThrow(() => claimMemberFolder(db, { dataDir: dir, id: 2 }), 'member 2 takes it');
    assert.equal(storedConfig(db), null, 'no capacities kept');
    assert.doesNotThrow(() => refuseLostJournal(dir, 'holds no batch', 'lost', db), 'no snapshot');
    assert.equal(existsSync(join(dir, standbyLogFile)), false, 'no standby log (64 MiB) left');
  } finally {
    await closeJournalDb(db);
  }
  const said = 'member 1: its start failed before it served: its folder is left as it was';
  assert.ok(
    lines.some((l) => l.startsWith(said)),
    lines.join('\n'),
  );
}

test('a member whose client port is taken leaves a new folder as it was', async () => {
  const dir = tempDataDir();
  const members = await membersOf();
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(members[0].port, '127.0.0.1', resolve));
  try {
    const port = members[0].port;
    const lines = await refusedStart(
      dir,
      members,
      new RegExp(`cannot listen on 127.0.0.1:${port}: the port`),
    );
    await leftAsItWas(dir, lines);
  } finally {
    blocker.close();
    removeDir(dir);
  }
});

test('a member whose replication port is taken leaves a new folder as it was', async () => {
  const dir = tempDataDir();
  const members = await membersOf();
  const blocker: Socket = createSocket('udp4');
  await new Promise<void>((resolve) =>
    blocker.bind(members[0].replicationPort, '127.0.0.1', resolve),
  );
  try {
    const port = members[0].replicationPort;
    const lines = await refusedStart(
      dir,
      members,
      new RegExp(`cannot bind 127.0.0.1:${port} \\(udp\\): EADDRINUSE`),
    );
    await leftAsItWas(dir, lines);
  } finally {
    blocker.close();
    removeDir(dir);
  }
});

// With --bootstrap, the start asks the others; one answering with a journal that holds events
// says the empty folder lost its disk, and the start marks it recovering (it does not vote until
// caught up). Put back after the port clash, the mark was gone: started again while no other
// member answered (the whole cluster restarting), the folder counted as a new member's and voted
// without the data it had acknowledged. The folder now stays the member's, recovering.
test('a port clash keeps the lost disk the others told of: still recovering', async () => {
  const dir = tempDataDir();
  const members = await membersOf();
  const peer = createHttpServer((_req, res) => res.end('{"durableSequence":42}'));
  await new Promise<void>((resolve) => peer.listen(members[1].port, '127.0.0.1', resolve));
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(members[0].port, '127.0.0.1', resolve));
  try {
    const port = members[0].port;
    const said = new RegExp(`cannot listen on 127.0.0.1:${port}: the port`);
    const lines = await refusedStart(dir, members, said);
    const db = openJournalDb(dir, { create: false, readOnly: true });
    try {
      assert.equal(memberOfFolder(db), '1', lines.join('\n'));
      assert.equal(db.meta.get('recovering'), '1', 'still recovering: it lost its disk');
      assert.notEqual(singleNodeRefusal(db, dir), null, 'a member’s folder');
    } finally {
      await closeJournalDb(db);
    }
    assert.ok(
      lines.some((l) => /journals said its folder lost its data: .* is member 1's folder/.test(l)),
      lines.join('\n'),
    );
  } finally {
    blocker.close();
    peer.close();
    removeDir(dir);
  }
});

/** A member's folder in `dir`: member 1's, which voted, its journal file noted as the member's. */
async function memberFolder(dir: string): Promise<void> {
  const db = openJournalDb(dir, { create: true, readOnly: false });
  try {
    for (const [key, value] of [
      ['member-id', '1'],
      ['member', '1'],
      ['term', '2'],
    ]) {
      db.meta.putSync(key, value);
    }
    db.meta.putSync('votedFor', '1');
    noteMemberFile(db);
  } finally {
    await closeJournalDb(db);
  }
}

// A member's folder moved to a new disk (a copy: another journal.mdb inode) is taken with
// --folder-moved, which notes the new file. A port clash then puts the folder back as it was,
// the old file noted: a failed start took nothing, and the folder it came from may still be the
// one the operator starts (both taken without the flag, two folders would vote as member 1). The
// log said "taken" and then "left as it was (its id, flags and capacities as before)": the
// next start without the flag was refused MEMBER_COPY, which nothing had said.
test('a port clash leaves a --folder-moved copy as it was, and says to move it again', async () => {
  const from = tempDataDir();
  const dir = tempDataDir();
  const members = await membersOf();
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(members[0].port, '127.0.0.1', resolve));
  try {
    await memberFolder(from);
    for (const name of readdirSync(from)) copyFileSync(join(from, name), join(dir, name));
    const said = /cannot listen on/;
    const lines = await refusedStart(dir, members, said, { folderMoved: true });
    const db = openJournalDb(dir, { create: false, readOnly: true });
    try {
      assert.equal(memberOfFolder(db), '1');
      const copy = memberCopyRefusal(db, dir, 1);
      assert.equal(copy?.code, 'MEMBER_COPY', 'still a copy: the move was not taken');
      assert.doesNotThrow(() => claimMemberFolder(db, { dataDir: dir, id: 1, folderMoved: true }));
      assert.equal(storedConfig(db), null, 'no capacities kept');
    } finally {
      await closeJournalDb(db);
    }
    const told = new RegExp(
      'member 1: its start failed before it served: its folder is left as it was .*: ' +
        '--folder-moved was not taken: start member 1 with --folder-moved again',
    );
    assert.ok(
      lines.some((l) => told.test(l)),
      lines.join('\n'),
    );
  } finally {
    blocker.close();
    removeDir(from);
    removeDir(dir);
  }
});
