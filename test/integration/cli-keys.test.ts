/**
 * `bourse keys` on real folders: a node's and a local cluster's (every member gets the key),
 * and key files that are damaged are refused with their path and exit 65, never half-read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bourseMain as main, runBourse, type CliRun } from '../harness/bourse-cli.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { createHash, randomBytes } from 'node:crypto';
import { KeyRing, keyFileWarnings, readKeyFile, type KeyFile } from '../../src/gateway/api-keys.js';
import { clientKey, loginProof } from '../../src/protocol/login.js';
import { localCluster } from '../../src/cli/cluster-file.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { markMemberBackup } from '../../src/journal/member-folder.js';

function bourse(...args: string[]): CliRun {
  return runBourse(args, { timeoutMs: 30_000 });
}

function keysOf(dir: string): KeyFile {
  return JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')) as KeyFile;
}

test('keys on a cluster folder go to every member, and are revoked from every member', () => {
  const dir = tempDataDir();
  try {
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(localCluster(3, 39_400)));
    const made = bourse('keys', 'create', '--data', dir, '--client', '7', '--accounts', '1,2');
    assert.equal(made.code, 0, made.err);
    const token = made.out.split('\n')[0];
    for (const id of [1, 2, 3]) {
      const member = join(dir, `member-${id}`);
      assert.match(made.out, new RegExp(`member-${id}`));
      const file = readKeyFile(member);
      assert.ok(file !== null, `member ${id} has a key file`);
      // The same record everywhere: the token logs in on whichever member is primary.
      const grant = new KeyRing(file).verify(token);
      assert.deepEqual(grant && [grant.clientId, [...grant.accounts]], [7, [1, 2]]);
    }
    // A member that lost its copy is named by list, so the operator can mend it.
    const second = bourse('keys', 'create', '--data', dir, '--client', '8', '--admin');
    assert.equal(second.code, 0, second.err);
    const id2 = keysOf(join(dir, 'member-1')).keys[1].id;
    const member3 = keysOf(join(dir, 'member-3'));
    member3.keys = member3.keys.filter((k) => k.id !== id2);
    writeFileSync(join(dir, 'member-3', 'keys.json'), JSON.stringify(member3));
    const listed = bourse('keys', 'list', '--data', dir);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, new RegExp(`${id2} .*only member 1, member 2`));
    assert.doesNotMatch(listed.out, /secret|bk_/);

    const id1 = keysOf(join(dir, 'member-1')).keys[0].id;
    const revoked = bourse('keys', 'revoke', '--data', dir, '--id', id1);
    assert.equal(revoked.code, 0, revoked.err);
    for (const id of [1, 2, 3]) {
      const ids = keysOf(join(dir, `member-${id}`)).keys.map((k) => k.id);
      assert.ok(!ids.includes(id1), `member ${id} no longer has the revoked key`);
    }
    // The last key revoked: the members refuse every login (no development mode).
    assert.equal(bourse('keys', 'revoke', '--data', dir, '--id', id2).code, 0);
    const none = bourse('keys', 'list', '--data', dir);
    assert.match(none.out, /no keys in .*: every login is refused until a key is created/);
    const again = bourse('keys', 'revoke', '--data', dir, '--id', id1);
    assert.equal(again.code, 64);
    assert.match(again.err, new RegExp(`no key ${id1}`));
  } finally {
    removeDir(dir);
  }
});

test('a version 1 key file logs in, is warned of, and upgrade leaves no hash that logs in', () => {
  const dir = tempDataDir();
  try {
    // Version 1 kept SHA-256(secret): the HMAC key of a challenge proof, so the file logged in.
    const secret = 'q2V_Lm9-Xc3aB7dR0sT4uW8yZ1eF5gH6';
    const token = `bk_0a1b2c3d_${secret}`;
    const sha256 = createHash('sha256').update(secret).digest('hex');
    const key = { id: '0a1b2c3d', sha256, clientId: 7, admin: true, accounts: [], created: '' };
    writeFileSync(join(dir, 'keys.json'), JSON.stringify({ version: 1, keys: [key] }));
    const old = readKeyFile(dir)!;
    assert.equal(old.version, 1);
    assert.equal(new KeyRing(old).verify(token)?.clientId, 7, 'its key logs in as before');
    assert.match(keyFileWarnings(dir, old).join('\n'), /is version 1: whoever reads it can log in/);

    const upgraded = bourse('keys', 'upgrade', '--data', dir);
    assert.equal(upgraded.code, 0, upgraded.err);
    assert.match(upgraded.out, /rewrote .*keys\.json as version 2/);
    const text = readFileSync(join(dir, 'keys.json'), 'utf8');
    assert.doesNotMatch(text, new RegExp(sha256), 'the old hash is gone from the file');
    const file = readKeyFile(dir)!;
    assert.equal(file.version, 2);
    assert.deepEqual(keyFileWarnings(dir, file), []);
    const ring = new KeyRing(file);
    assert.equal(ring.verify(token)?.clientId, 7, 'the same key logs in');
    const nonce = randomBytes(32);
    const proof = loginProof(clientKey(secret), nonce, 7);
    assert.equal(ring.verifyProof('bk_0a1b2c3d', 7, nonce, proof)?.clientId, 7);
    // What the file holds now signs no proof (the old hash did: it is the client key).
    const forged = loginProof(Buffer.from(file.keys[0].stored, 'hex'), nonce, 7);
    assert.equal(ring.verifyProof('bk_0a1b2c3d', 7, nonce, forged), null, 'the file signs none');
    assert.match(bourse('keys', 'upgrade', '--data', dir).out, /nothing to do/);
  } finally {
    removeDir(dir);
  }
});

test('a key of a client id the node now keeps for itself loads, and can be revoked', () => {
  const dir = tempDataDir();
  try {
    // Made by an older release (its maximum was 4294967294): start and keys refused the file.
    const made = bourse('keys', 'create', '--data', dir, '--client', '7', '--admin');
    assert.equal(made.code, 0, made.err);
    const file = keysOf(dir);
    const old = { ...file.keys[0], id: 'abcdef12', clientId: 2 ** 32 - 2 };
    writeFileSync(join(dir, 'keys.json'), JSON.stringify({ ...file, keys: [...file.keys, old] }));
    assert.equal(readKeyFile(dir)?.keys.length, 2);
    const listed = bourse('keys', 'list', '--data', dir);
    assert.equal(listed.code, 0, listed.err);
    const revoked = bourse('keys', 'revoke', '--data', dir, '--id', 'abcdef12');
    assert.equal(revoked.code, 0, revoked.err);
    assert.deepEqual(
      keysOf(dir).keys.map((k) => k.clientId),
      [7],
    );
  } finally {
    removeDir(dir);
  }
});

// A keys.json this user may not read was told "not JSON (EACCES)", exit 65 (damaged data):
// now "not readable", 73, as other files it may not read (bourse backup's keys.json, a folder).
test('a keys.json the user may not read: "not readable", 73 (runs as root: as uid 65534)', () => {
  const dir = tempDataDir();
  try {
    assert.equal(bourse('keys', 'create', '--data', dir, '--client', '7', '--admin').code, 0);
    assert.equal(process.getuid?.(), 0, 'this test runs as root');
    chmodSync(dir, 0o755); // keys.json stays 0600, root's
    const r = spawnSync(process.execPath, [main, 'keys', 'list', '--data', dir], {
      encoding: 'utf8',
      timeout: 60_000,
      uid: 65_534,
      gid: 65_534,
    });
    assert.equal(r.status, 73, r.stderr);
    assert.match(r.stderr, /keys\.json: not readable \(EACCES\)/);
    rmSync(join(dir, 'keys.json'));
    mkdirSync(join(dir, 'keys.json'));
    const folder = bourse('keys', 'list', '--data', dir);
    assert.equal(folder.code, 73, folder.err);
    assert.match(folder.err, /keys\.json: not readable \(EISDIR\)/);
  } finally {
    removeDir(dir);
  }
});

test('damaged key file (65), a file or no folder (66) as --data: nothing written', () => {
  const dir = tempDataDir();
  try {
    const sha = 'a'.repeat(64);
    const cases: [string, RegExp][] = [
      ['{bad', /keys\.json: not JSON/],
      ['{"version":3,"keys":[]}', /not a bourse key file/],
      [record({ clientId: '7' }), /key 1: clientId/],
      [record({ clientId: 2 ** 32 }), /key 1: clientId/],
      [record({ accounts: '1,2' }), /key 1: accounts/],
      [record({ accounts: [], admin: false }), /key 1: grants nothing/],
      [record({ admin: 'yes' }), /key 1: admin/],
      [record({ sha256: 'xyz' }), /key 1: sha256/],
      [record({ sha256: undefined, stored: sha }), /key 1: sha256/], // version 1's field
      [record({ sha256: undefined, stored: 'xyz' }, 2), /key 1: stored/],
      [record({ id: 'ABC' }), /key 1: id/],
    ];
    function record(over: Record<string, unknown>, version = 1): string {
      const key = { id: 'abcdef12', sha256: sha, clientId: 7, admin: true, accounts: [] };
      return JSON.stringify({ version, keys: [{ ...key, ...over }] });
    }
    for (const [text, message] of cases) {
      writeFileSync(join(dir, 'keys.json'), text);
      for (const args of [
        ['keys', 'list', '--data', dir],
        ['keys', 'create', '--data', dir, '--client', '3', '--admin'],
      ]) {
        const r = bourse(...args);
        assert.equal(r.code, 65, `${args[1]} on ${text}: ${r.err}`);
        assert.match(r.err, message);
        assert.doesNotMatch(r.err, /internal error|\n    at /);
        assert.equal(readFileSync(join(dir, 'keys.json'), 'utf8'), text, 'file unchanged');
      }
    }
    const twice = JSON.parse(record({})) as KeyFile;
    twice.keys.push(twice.keys[0]);
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(twice));
    assert.match(bourse('keys', 'list', '--data', dir).err, /key id abcdef12 twice/);
    const node = join(dir, 'node');
    mkdirSync(node);
    writeFileSync(join(node, 'keys.json'), '{bad');
    const started = bourse('start', '--data', node, '--port', '0');
    assert.equal(started.code, 65, started.err);
    assert.match(started.err, /keys\.json: not JSON/);
    const file = join(dir, 'keys.json');
    for (const args of [['list'], ['create', '--client', '3', '--admin']]) {
      const r = bourse('keys', ...args, '--data', file);
      assert.equal(r.code, 66, r.err);
      assert.match(r.err, /is a file, not a data folder/);
    }
    // A mistyped folder: list said "no keys" (exit 0) and revoke "no key" (64).
    const missing = join(dir, 'no-such-folder');
    for (const args of [['list'], ['revoke', '--id', 'abcdef12']]) {
      const r = bourse('keys', ...args, '--data', missing);
      assert.equal(r.code, 66, r.err);
      assert.match(r.err, /data folder .*no-such-folder does not exist/);
    }
    for (const command of ['verify', 'replay', 'inspect']) {
      const r = bourse(command, '--data', file);
      assert.equal(r.code, 66, r.err);
      assert.match(r.err, /is a file, not a data folder/);
    }
    const repeated = bourse('keys', 'create', '--data', dir, '--client', '5', '--accounts', '1,1');
    assert.equal(repeated.code, 64, 'an account named twice (taken as it was)');
    assert.match(repeated.err, /--accounts: 1 is named twice/);
    const big = bourse('keys', 'create', '--data', dir, '--client', String(2 ** 32), '--admin');
    assert.equal(big.code, 64);
    assert.match(big.err, /--client: a client id from 1 to 4294967292/);
    const reserved = ['--client', String(2 ** 32 - 1), '--admin']; // the cluster's own id
    const refused = bourse('keys', 'create', '--data', dir, ...reserved);
    assert.equal(refused.code, 64);
    assert.match(refused.err, /--client: a client id from 1 to 4294967292/);
    // Both: the accounts were dropped without a word, and the key was an admin's.
    const both = bourse(
      'keys',
      'create',
      '--data',
      dir,
      '--client',
      '4',
      '--admin',
      '--accounts',
      '1',
    );
    assert.equal(both.code, 64);
    assert.match(both.err, /give --admin or --accounts, not both/);
  } finally {
    removeDir(dir);
  }
});

/** Runs `bourse keys ...` in a child without waiting: its exit code and stdout. */
function keysAsync(...args: string[]): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, [main, 'keys', ...args]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out })));
}

/**
 * Keys commands run at once (a script making keys for many clients in parallel) each read
 * keys.json, changed it and wrote it back: a key shown as saved was missing from the file (1
 * to 4 of 20 in runs here, on the old code), and the file was once left not JSON (two writes
 * interleaved in one temporary file). Each now holds the folder's keys.json.lock from its read
 * to its rename: every key made is in the file, and a key revoked meanwhile stays revoked.
 */
test('keys commands run at once: every key made is kept, a revoked one stays revoked', async () => {
  const dir = tempDataDir();
  try {
    const first = bourse('keys', 'create', '--data', dir, '--client', '1', '--admin');
    assert.equal(first.code, 0, first.err);
    const revoked = keysOf(dir).keys[0].id;
    const runs = [keysAsync('revoke', '--data', dir, '--id', revoked)];
    for (let client = 2; client <= 21; client++) {
      runs.push(keysAsync('create', '--data', dir, '--client', String(client), '--admin'));
    }
    const done = await Promise.all(runs);
    assert.deepEqual(
      done.map((r) => r.code),
      runs.map(() => 0),
    );
    const saved = done.slice(1).map((r) => /^key (\w+) for client/m.exec(r.out)?.[1]);
    const ids = keysOf(dir).keys.map((key) => key.id); // JSON.parse throws on a torn file
    assert.deepEqual([...ids].sort(), [...saved].sort(), 'every key shown is in the file');
    assert.ok(!ids.includes(revoked), 'the revoked key did not come back');
  } finally {
    removeDir(dir);
  }
});

/**
 * A backup of a member's folder runs as nothing (start 64, member 65): its keys were changed
 * all the same, and said taken by "what runs on this folder". A key made there let no one in,
 * one revoked there still opened the member it came from. Now refused (65); list reads them.
 */
test("keys create and revoke refuse a member folder's backup (65); list reads it", async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    db.meta.putSync('member-id', '2'); // member 2's folder, as `bourse member` leaves it
    await closeJournalDb(db);
    const made = bourse('keys', 'create', '--data', dir, '--client', '7', '--admin');
    assert.equal(made.code, 0, made.err);
    const id = /^key (\w+) for client 7/m.exec(made.out)?.[1] ?? 'none';
    await markMemberBackup(dir, '2'); // what `bourse backup` does to a copy of it
    const text = readFileSync(join(dir, 'keys.json'), 'utf8');
    for (const args of [
      ['create', '--client', '8', '--admin'],
      ['revoke', '--id', id],
    ]) {
      const r = bourse('keys', ...args, '--data', dir);
      assert.equal(r.code, 65, `${args[0]}: ${r.err}`);
      assert.match(r.err, /is a backup of member 2's folder: no key is changed on it/);
      assert.equal(readFileSync(join(dir, 'keys.json'), 'utf8'), text, 'file unchanged');
    }
    const listed = bourse('keys', 'list', '--data', dir);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, new RegExp(id));
  } finally {
    removeDir(dir);
  }
});
