/**
 * `bourse keys create` never writes a key id that a key file holds already. Ids are 4 random
 * bytes and were drawn blind: a clash (1% odds by ~9,300 keys) went into keys.json, and the next
 * start of the node refused the file (exit 65). A fixed random source makes the clash happen.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';
import { createKeyCommand } from '../../../src/cli/keys.js';
import { localCluster } from '../../../src/cli/cluster-file.js';
import {
  createKey,
  readKeyFile,
  writeKeyFile,
  type KeyFile,
} from '../../../src/gateway/api-keys.js';

/** Random bytes that give key ids `ids`, in order, and a fixed secret. */
function fixedRandom(ids: string[]): (size: number) => Buffer {
  let next = 0;
  return (size) => {
    if (size !== 4) return Buffer.alloc(size, 7);
    assert.ok(next < ids.length, 'drew no more ids than the test gave');
    return Buffer.from(ids[next++], 'hex');
  };
}

/** A key file holding one key, of id `id`. */
function fileWith(id: string, clientId: number): KeyFile {
  const { record } = createKey(clientId, true, []);
  return { version: 2, keys: [{ ...record, id }] };
}

function quietStdout(t: TestContext): string[] {
  const written: string[] = [];
  t.mock.method(process.stdout, 'write', (text: string) => written.push(text) > 0);
  return written;
}

test('a new key never takes an id a member already holds', (t) => {
  const dir = tempDataDir();
  try {
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(localCluster(3, 28_400)));
    // Member 3 kept a key the others lost; member 1 has one of its own.
    for (const [member, id] of [
      [1, '11111111'],
      [3, '0a1b2c3d'],
    ] as const) {
      mkdirSync(join(dir, `member-${member}`));
      writeKeyFile(join(dir, `member-${member}`), fileWith(id, 40 + member));
    }
    const written = quietStdout(t);
    createKeyCommand(
      { data: dir, client: 7, accounts: '1' },
      fixedRandom(['0a1b2c3d', '11111111', '22222222']),
    );
    t.mock.restoreAll();
    assert.match(written.join(''), /^bk_22222222_/);
    for (const member of [1, 2, 3]) {
      // readKeyFile throws on an id twice, as a starting node does (exit 65).
      const file = readKeyFile(join(dir, `member-${member}`));
      const ids = file?.keys.map((k) => k.id) ?? [];
      assert.ok(ids.includes('22222222'), `member ${member} has the new key`);
      assert.equal(new Set(ids).size, ids.length);
    }
  } finally {
    removeDir(dir);
  }
});

test('no free id after keyIdDrawsMax draws: refused, nothing written', (t) => {
  const dir = tempDataDir();
  try {
    writeKeyFile(dir, fileWith('0a1b2c3d', 41));
    const before = readFileSync(join(dir, 'keys.json'), 'utf8');
    quietStdout(t);
    assert.throws(
      () =>
        createKeyCommand(
          { data: dir, client: 7, admin: true },
          fixedRandom(Array<string>(8).fill('0a1b2c3d')),
        ),
      /8 key ids drawn at random were all among the 1 in use/,
    );
    t.mock.restoreAll();
    assert.equal(readFileSync(join(dir, 'keys.json'), 'utf8'), before);
  } finally {
    removeDir(dir);
  }
});

/** A key file holding one key of client 7, with these grants. */
function fileOfClient7(admin: boolean, accounts: number[]): KeyFile {
  const { record } = createKey(7, admin, accounts);
  return { version: 2, keys: [{ ...record, id: '77777777' }] };
}

// Keys of one client id act as one client: one run of client sequences and one set of orders,
// so an account key could cancel, by client id or on disconnect, orders another key of its
// client placed on accounts it does not grant. Such a key was written without a word.
test('a client id held with other grants is refused without --share-client', (t) => {
  const dir = tempDataDir();
  try {
    writeKeyFile(dir, fileOfClient7(false, [1, 2]));
    const before = readFileSync(join(dir, 'keys.json'), 'utf8');
    const written = quietStdout(t);
    for (const grants of [{ accounts: '3' }, { admin: true }, { accounts: '1' }]) {
      assert.throws(
        () => createKeyCommand({ data: dir, client: 7, ...grants }),
        /client 7 is held by key 77777777 with other grants.*--share-client/s,
      );
    }
    assert.equal(readFileSync(join(dir, 'keys.json'), 'utf8'), before, 'nothing written');
    assert.deepEqual(written, [], 'no key shown');
    createKeyCommand({ data: dir, client: 7, accounts: '3', shareClient: true });
    t.mock.restoreAll();
    assert.match(written.join(''), /Key 77777777 holds client 7 too/);
    assert.equal(readKeyFile(dir)?.keys.length, 2);
  } finally {
    removeDir(dir);
  }
});

test('a rotation (the same grants) and another client id are taken as before', (t) => {
  const dir = tempDataDir();
  try {
    writeKeyFile(dir, fileOfClient7(false, [2, 1]));
    const written = quietStdout(t);
    createKeyCommand({ data: dir, client: 7, accounts: '1,2' });
    createKeyCommand({ data: dir, client: 8, accounts: '3' });
    t.mock.restoreAll();
    const out = written.join('');
    assert.equal(out.match(/holds client 7 too/g)?.length, 1, 'the rotation is noted once');
    assert.doesNotMatch(out, /holds client 8/);
    assert.deepEqual(
      readKeyFile(dir)?.keys.map((k) => k.clientId),
      [7, 7, 8],
    );
  } finally {
    removeDir(dir);
  }
});

test("a key made in a folder no node has run on says so, and one in a node's folder not", (t) => {
  const dir = tempDataDir();
  const typo = join(dir, 'dta'); // `--data ./dta` for ./data: made, keyed, and no node on it
  try {
    const written = quietStdout(t);
    createKeyCommand({ data: typo, client: 7, admin: true });
    writeFileSync(join(dir, 'journal.mdb'), ''); // a node's folder: its journal is there
    createKeyCommand({ data: dir, client: 8, admin: true });
    t.mock.restoreAll();
    const [made, node] = written.join('').split(/\n(?=bk_)/);
    assert.match(made, /No node has run on this folder yet \(no journal\.mdb\)/);
    assert.match(made, /check --data/);
    assert.doesNotMatch(node, /No node has run/);
    assert.match(node, /What runs on this folder requires keys within a second/);
  } finally {
    removeDir(dir);
  }
});
