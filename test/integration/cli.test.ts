/**
 * The CLI on real data folders: every bad situation gets a clear message and its exit code, and
 * leaves the data as it was. Its commands here run once and end (a node at most until it is
 * ready); cli-running.test.ts has start and bench running, and their signals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeDriver, removeDir, tempDataDir } from '../harness/node-driver.js';
import { smallConfig } from '../harness/engine-driver.js';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import type { CommandFields } from '../../src/protocol/command-writer.js';
import { dataWith } from '../harness/journaled-folder.js';
import { readable } from '../harness/log-lines.js';
import { makeSecret } from '../../src/cli/cluster-secret.js';
import {
  closeJournalDb,
  dataFile,
  openJournalDb,
  sequenceKey,
} from '../../src/journal/journal-db.js';
import { dataLockFileName } from '../../src/constants.js';
import { DataLock } from '../../src/journal/data-lock.js';
import { open } from 'lmdb';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

function bourse(...args: string[]): { code: number; out: string; err: string } {
  return bourseWith({}, ...args);
}

function bourseWith(
  env: Record<string, string>,
  ...args: string[]
): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  // A cluster's or a member's failure is a JSON line on a stderr that is no terminal: its msg.
  return { code: r.status ?? -1, out: r.stdout, err: readable(r.stderr) };
}

test('settings: a file (YAML or JSON), then BOURSE_* variables, then flags', () => {
  const dir = tempDataDir();
  try {
    const yaml = join(dir, 'bourse.yaml');
    // The top level applies to every command; a command's own section wins over it.
    writeFileSync(yaml, 'data: /nowhere/top\ninspect:\n  data: /nowhere/section\n  count: 5\n');
    const fromFile = bourse('inspect', '--config', yaml);
    assert.equal(fromFile.code, 66);
    assert.match(fromFile.err, /data folder \/nowhere\/section does not exist/);
    assert.match(bourse('replay', '--config', yaml).err, /\/nowhere\/top does/);
    const fromEnv = bourseWith({ BOURSE_DATA: '/nowhere/env' }, 'inspect', '--config', yaml);
    assert.match(fromEnv.err, /\/nowhere\/env does not exist/, 'the environment wins');
    const env = { BOURSE_DATA: '/nowhere/env' };
    const fromFlag = bourseWith(env, 'inspect', '--config', yaml, '--data', '/nowhere/flag');
    assert.match(fromFlag.err, /\/nowhere\/flag does not exist/, 'a flag wins');

    const json = join(dir, 'bourse.json');
    writeFileSync(json, JSON.stringify({ start: { port: 'ninety' } }));
    const wrong = bourse('start', '--config', json);
    assert.equal(wrong.code, 64);
    assert.match(wrong.err, /bourse\.json: port: --port: 'ninety' is not a port \(0 to 65535\)/);
    writeFileSync(json, JSON.stringify({ prot: 9001 }));
    const unknown = bourse('start', '--config', json);
    assert.equal(unknown.code, 64);
    // The keys it takes, spaced, and the near one (they ran together: data,host,port,...).
    assert.match(unknown.err, /'prot' is not a setting of start \(data, host, port, /);
    assert.match(unknown.err, /\); did you mean 'port'\?$/m);
    writeFileSync(json, JSON.stringify({ start: { 'acounts-max': 5, 'zzz-qqq': 1 } }));
    const typo = bourse('start', '--config', json);
    assert.equal(typo.code, 64);
    assert.match(typo.err, /'acounts-max' is not .*; did you mean 'accounts-max'\?$/m);
    // A key twice: JSON.parse kept the last (/nowhere/b) silently. YAML's parser refuses it.
    writeFileSync(json, '{"inspect": {"data": "/nowhere/a", "data": "/nowhere/b"}}');
    const twice = bourse('inspect', '--config', json);
    assert.equal(twice.code, 64, twice.err);
    assert.match(twice.err, /bourse\.json is not valid: "data": given twice/);
    writeFileSync(yaml, 'data: /nowhere/a\ndata: /nowhere/b\n');
    const twiceYaml = bourse('inspect', '--config', yaml);
    assert.equal(twiceYaml.code, 64, twiceYaml.err);
    assert.match(twiceYaml.err, /bourse\.yaml is not valid: Map keys must be unique at line 2/);
    const badEnv = bourseWith({ BOURSE_PORT: 'x' }, 'start', '--data', dir);
    assert.equal(badEnv.code, 64);
    assert.match(badEnv.err, /BOURSE_PORT/);
    const bootstrap = { BOURSE_BOOTSTRAP: 'maybe' };
    const badFlag = bourseWith(bootstrap, 'member', '--cluster', 'none.json', '--id', '1');
    assert.equal(badFlag.code, 64);
    assert.match(badFlag.err, /BOURSE_BOOTSTRAP: 1, true, yes, or 0, false, no, empty/);
    // A group's section (drill:, keys:) holds its commands' settings, and may hold their own.
    writeFileSync(yaml, 'drill:\n  window: abc\nkeys:\n  list:\n    data: /nowhere/keys\n');
    const drill = bourse('drill', 'failover', '--config', yaml);
    assert.equal(drill.code, 64, drill.err);
    assert.match(drill.err, /bourse\.yaml: window: --window: 'abc' is not a number of transfers/);
    assert.match(bourse('keys', 'list', '--config', yaml).err, /\/nowhere\/keys does not exist/);
    // A value its parser takes but a later check refuses: the origin is named too (it was not).
    writeFileSync(yaml, 'drill:\n  window: 0\n');
    const later = bourse('drill', 'failover', '--config', yaml);
    assert.equal(later.code, 64, later.err);
    assert.match(later.err, /bourse\.yaml: window: --window: 1 to 100,000 transfers/);
    const fromVar = bourseWith({ BOURSE_NODES: '2' }, 'drill', 'failover');
    assert.match(fromVar.err, /BOURSE_NODES: --nodes: 2: 3 to 7/);
    const missing = bourse('start', '--config', join(dir, 'none.yaml'));
    assert.equal(missing.code, 64);
    assert.match(missing.err, /cannot read .*none\.yaml \(ENOENT\)/);
    // A switch given as a text: the refusal quotes it (it read 'true or false, not false').
    writeFileSync(yaml, 'replay:\n  balances: "false"\n');
    const quoted = bourse('replay', '--config', yaml);
    assert.equal(quoted.code, 64);
    assert.match(quoted.err, /bourse\.yaml: balances: true or false \(no quotes\), not "false"/);
  } finally {
    removeDir(dir);
  }
});

/** --client's one refusal, of a value that is no number as of one out of range. */
const clientRange = (text: string): RegExp =>
  new RegExp(`^bourse keys create: --client: a client id from 1 to 4294967292, not '${text}'$`);

/**
 * commander's own refusals read `error: option '--x' …` where every other reads `bourse: …`:
 * now `bourse <command>: …`, its suggestion kept, exit 64; help and version are as they were.
 */
test("commander's refusals read 'bourse <command>: …', exit 64", () => {
  const refusals: [string[], RegExp][] = [
    [
      ['inspect', '--from-sq', '3'],
      /^bourse inspect: unknown option '--from-sq'\n\(Did you mean --from-seq\?\)$/,
    ],
    [['inspct'], /^bourse: unknown command 'inspct'\n\(Did you mean inspect\?\)$/],
    [['--nope'], /^bourse: unknown option '--nope'$/],
    [['keys', 'create'], /^bourse keys create: required option '--client <id>' not specified$/],
    [['bench'], /^bourse bench: missing required argument 'scenario'$/],
    [['inspect', '--count'], /^bourse inspect: option '--count <k>' argument missing$/],
    [
      ['drill', 'failover', '--signal', 'X'],
      /^bourse drill failover: option '--signal <name>' argument 'X' is invalid\. Allowed choices/,
    ],
    // One of our parsers' reasons names the flag: said once, not after commander's own words.
    [['inspect', '--count', '0'], /^bourse inspect: --count: '0' is not a whole number ≥ 1$/],
    // Flags that take 1 or more say so at once (a -5 was told '≥ 0', then a 0 '1 or more').
    [['bench', 'e2e', '--rate', '-5'], /^bourse bench: --rate: '-5' is not a whole number ≥ 1$/],
    [
      ['drill', 'partition', '--cuts', '-1'],
      /^bourse drill partition: --cuts: '-1' is not .* ≥ 1$/,
    ],
    // A failover drill with no failover checks nothing: --kills 0 passed, having killed none.
    [['drill', 'failover', '--kills', '0'], /^bourse drill failover: --kills: '0' is not .* ≥ 1$/],
    // One flag, one range: 'abc' was "not a whole number ≥ 0", then 0 "1 to 4294967292".
    [['keys', 'create', '--client', 'abc'], clientRange('abc')],
    [['keys', 'create', '--client', '0'], clientRange('0')],
    // Their range said where it is checked ("1 to 100,000"; not "≥ 0" first).
    [['drill', 'failover', '--window', '-1'], /^bourse drill failover: --window: '-1' is not a /],
    [['drill', 'failover', '--accounts', 'x'], /: --accounts: 'x' is not a number of accounts$/],
    [['member', '--cluster', 'c.json', '--id', 'x'], /^bourse member: --id: 'x' is not a member/],
    // A stop wait past a timer's 2^31 - 1 ms fired at once: the member was killed at once.
    [['member', '--cluster', 'c.json', '--id', '1', '--stop-ms', '0'], /: --stop-ms: '0' is not /],
    [
      ['cluster', '--nodes', '9', '--member-stop-ms', '2147483648'],
      /: --member-stop-ms: '\d+' is above 3600000$/,
    ],
  ];
  for (const [args, message] of refusals) {
    const r = bourse(...args);
    assert.equal(r.code, 64, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err.trimEnd(), message);
    assert.equal(r.out, '', args.join(' '));
  }
  const help = bourse('inspect', '--help');
  assert.equal(help.code, 0, help.err);
  assert.match(help.out, /^Usage: bourse inspect \[options\]\n/);
  assert.equal(bourse('--version').code, 0);
});

test('output into a pipe its reader closed early ends quietly (| head)', async () => {
  const child = spawn(process.execPath, [main, 'inspect', '--help']);
  child.stdout.destroy(); // the reader is gone before the first line
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise((resolve) => child.once('close', resolve));
  assert.equal(code, 0, err);
  assert.doesNotMatch(err, /EPIPE/);
});

test('replay stopping inside a linked chain shows the state before the chain', async () => {
  const dir = tempDataDir();
  try {
    const driver = await NodeDriver.start({ dataDir: dir, config: smallConfig });
    const base = { clientId: 5, ref: 1 };
    const commands: Omit<CommandFields, 'clientSeq'>[] = [
      { ...base, kind: CommandKind.AddAsset, aux: 2 },
      { ...base, kind: CommandKind.CreateAccount, account: 1 },
      { ...base, kind: CommandKind.CreateAccount, account: 2 },
      { ...base, kind: CommandKind.Deposit, account: 1, quantity: 100 },
    ];
    const move = { ...base, kind: CommandKind.Transfer, account: 1, target: 2, quantity: 10 };
    commands.push({ ...move, flags: CommandFlag.Linked }, { ...move, flags: CommandFlag.Linked });
    commands.push(move, move); // the first closes the chain of sequences 5 to 7; 8 stands alone
    await driver.submit(commands.map((c, i) => ({ ...c, clientSeq: i + 1 })));
    await driver.untilDurable(8);
    await driver.stop();
    const balance = (seq: string): string => {
      const r = bourse('replay', '--data', dir, '--to-seq', seq, '--account', '1', '--balances');
      assert.equal(r.code, 0, r.err);
      return r.out;
    };
    for (const seq of ['5', '6']) {
      const out = balance(seq);
      assert.match(out, /state at sequence 4 /);
      assert.match(out, /sequences 5 to 7 are one linked chain/);
      assert.match(out, /\n\s*1\s+1\s+100\s+0\s*\n/, 'nothing of the chain applied');
    }
    const closed = balance('7');
    assert.match(closed, /state at sequence 7 /);
    assert.doesNotMatch(closed, /linked chain/);
    assert.match(closed, /\n\s*1\s+1\s+70\s+0\s*\n/, 'the whole chain applied');
  } finally {
    removeDir(dir);
  }
});

test('replay, inspect and verify read a data folder', async () => {
  const dir = await dataWith(1_200);
  try {
    const replay = bourse(
      'replay',
      '--data',
      dir,
      '--to-seq',
      '30',
      '--balances',
      '--account',
      '1',
    );
    assert.equal(replay.code, 0, replay.err);
    assert.match(replay.out, /state at sequence 30 /);
    assert.match(replay.out, /account\s+asset\s+available\s+held/);
    const book = bourse('replay', '--data', dir, '--book', '1', '--orders');
    assert.equal(book.code, 0, book.err);
    assert.match(book.out, /book 1 asks/);
    const inspect = bourse('inspect', '--data', dir, '--from-seq', '5', '--count', '3');
    assert.equal(inspect.code, 0, inspect.err);
    assert.equal(inspect.out.split('\n').filter((l) => l.startsWith('  #')).length, 3);
    assert.match(inspect.out, /^ {2}#5 /m);
    // Each batch named once, over its first event printed (it was repeated over each).
    const headers = inspect.out.split('\n').filter((l) => l.startsWith('batch '));
    assert.ok(headers.length < 3, `3 events of one or two batches: ${inspect.out}`);
    assert.equal(new Set(headers).size, headers.length, inspect.out);
    assert.doesNotMatch(replay.out, /does not exist|ends at/, 'nothing missing, nothing said');
    // Asked for what is not there: said so, not an empty table alone.
    const past = bourse('replay', '--data', dir, '--to-seq', '99999', '--account', '424242');
    assert.equal(past.code, 0, past.err);
    assert.match(past.out, /\(the journal ends at sequence \d+; --to-seq 99999 is past it\)/);
    assert.match(past.out, /\(account 424242 does not exist at this sequence\)/);
    // --account alone: its balances and orders (it printed nothing of the account).
    const alone = bourse('replay', '--data', dir, '--account', '1');
    assert.match(alone.out, /^balances\n.*\n +1 /m);
    assert.match(alone.out, /^open orders$/m);
    const noBook = bourse('replay', '--data', dir, '--book', '63');
    assert.match(noBook.out, /\(instrument 63 does not exist at this sequence\)/);
    const early = bourse('replay', '--data', dir, '--to-time', '2001-01-01T00:00:00Z');
    assert.match(early.out, /^state before the first event: nothing applied$/m);
    // Times to the µs: the time replay prints, pasted back, includes its event (it printed
    // milliseconds, and a fraction's digits past them were dropped).
    const at = /^state at sequence 30 \((\S+)\)/m.exec(replay.out)?.[1] ?? '';
    assert.match(at, /\.\d{6}Z$/, replay.out);
    const pasted = bourse('replay', '--data', dir, '--to-time', at);
    assert.ok(Number(/^state at sequence (\d+) /m.exec(pasted.out)?.[1]) >= 30, pasted.out);
    const millis = bourse('replay', '--data', dir, '--to-time', String(Date.now()));
    assert.equal(millis.code, 64, millis.err);
    assert.match(millis.err, /^bourse: --to-time: '\d{13}' is out of range \(13 digits: milli/);
    // A bare year was read as 2,030 µs, '-5' as May 2001, and a time past 2^53 µs crashed.
    for (const time of ['2030', '-5', '1969-12-31', '99999999999999999999999']) {
      const refused = bourse('replay', '--data', dir, '--to-time', time);
      assert.equal(refused.code, 64, `${time}: ${refused.err}`);
      assert.match(refused.err, /--to-time: '.+' (is out of range: a|is not a) time from 2000/);
    }
    // Decimal digits only ('' was 0, '0x10' 16), one message for a count of 0 and of -3.
    for (const [flag, text] of [
      ['--to-seq', ''],
      ['--to-seq', '0x10'],
      ['--to-seq', '1e3'],
    ]) {
      const bad = bourse('replay', '--data', dir, flag, text);
      assert.equal(bad.code, 64, `${flag} '${text}': ${bad.out}`);
    }
    for (const text of ['0', '-3']) {
      const bad = bourse('inspect', '--data', dir, '--count', text);
      assert.match(bad.err, /--count: '-?\d' is not a whole number ≥ 1/, bad.err);
    }
    const beyond = bourse('inspect', '--data', dir, '--from-seq', '99999');
    assert.match(beyond.out, /^no events from sequence 99999: the journal ends at \d+$/m);
    assert.doesNotMatch(beyond.out, /^batch /m, 'no batch header without its events');
    const verify = bourse('verify', '--data', dir);
    assert.equal(verify.code, 0, verify.err);
    assert.match(verify.out, /verify: ok: \d+ batches, \d+ events through sequence \d+/);
  } finally {
    removeDir(dir);
  }
});

/**
 * inspect for an audit: it printed no time (replay --to-time works by time), 16 hex digits of
 * each batch's hash and '…' (the chain could not be followed by hand) and flags as numbers.
 */
test('inspect: times to the µs, full hashes that chain, flags by name', async () => {
  const dir = await dataWith(1_200);
  try {
    const all = bourse('inspect', '--data', dir, '--count', '1000000');
    assert.equal(all.code, 0, all.err);
    const header =
      /^batch (\d+) at (\S+): \d+ events?, term \d+\n {2}prev (\S+)\n {2}hash (\S+)$/gm;
    const batches = [...all.out.matchAll(header)];
    assert.ok(batches.length >= 3, `1,200 commands in batches of 400 at most: ${all.out}`);
    let prev = '0'.repeat(64);
    for (const [, , , before, hash] of batches) {
      assert.equal(before, prev, 'each batch names the one before it, in full');
      assert.match(hash, /^[0-9a-f]{64}$/);
      prev = hash;
    }
    // Each time, pasted into replay --to-time, includes what it is the time of.
    const [, first, batchTime] = batches[1];
    const event = /^ {2}#30 (\S+) /m.exec(all.out)?.[1] ?? '';
    for (const [time, sequence] of [
      [batchTime, Number(first)],
      [event, 30],
    ] as const) {
      assert.match(time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/, all.out);
      const r = bourse('replay', '--data', dir, '--to-time', time);
      assert.equal(r.code, 0, r.err);
      const at = Number(/^state at sequence (\d+) /m.exec(r.out)?.[1]);
      assert.ok(at >= sequence, `${time}: ${r.out}`);
    }
    assert.match(all.out, /^ {2}#1 \S+ AssetAdded Ok .* flags=Head\|Record$/m);
    assert.doesNotMatch(all.out, /flags=\d/);
  } finally {
    removeDir(dir);
  }
});

/** replay --book showed a halted book as a quiet one: GET /book says \`halted\`, replay did not. */
test('replay --book says whether the book is halted', async () => {
  const dir = await dataWith(100, [{ kind: CommandKind.HaltInstrument, ref: 1 }]);
  try {
    const before = bourse('replay', '--data', dir, '--to-seq', '80', '--book', '1');
    assert.equal(before.code, 0, before.err);
    assert.match(before.out, /^book 1: trading\nbook 1 asks/m);
    const halted = bourse('replay', '--data', dir, '--book', '1');
    assert.equal(halted.code, 0, halted.err);
    assert.match(halted.out, /^book 1: halted \(it keeps its orders, takes no new ones; cancel/m);
    assert.match(halted.out, /^book 1 bids \(best first\)$/m);
    const none = bourse('replay', '--data', dir, '--book', '3');
    assert.doesNotMatch(none.out, /^book 3: /m, 'no state for a book that does not exist');
  } finally {
    removeDir(dir);
  }
});

test('bad situations: a message, an exit code, and nothing written', async () => {
  const dir = await dataWith(900);
  try {
    assert.equal(bourse('replay', '--data', join(dir, 'missing')).code, 66);
    // A cluster file that is not there: exit 66 (no input), the file named; it was 64.
    const memberDir = join(dir, 'member-1');
    const into = ['--data', memberDir];
    const noCluster = bourse('member', '--cluster', join(dir, 'none.json'), '--id', '1', ...into);
    assert.equal(noCluster.code, 66, noCluster.err);
    assert.match(noCluster.err, /cluster file \S+none\.json: cannot read it \(ENOENT\)/);
    assert.equal(existsSync(memberDir), false, 'no member folder made');
    assert.equal(bourse('start', '--data', '/dev/null/data').code, 73);
    // Under /proc, mkdir's recursive mode looped for ever at full CPU, deaf to SIGTERM: start,
    // keys create and cluster now refuse at once, naming the folder.
    const proc = bourse('start', '--data', '/proc/no-such-data', '--port', '0');
    assert.equal(proc.code, 66, proc.err);
    for (const args of [
      ['keys', 'create', '--data', '/proc/no-such-data', '--client', '3', '--admin'],
      ['cluster', '--nodes', '3', '--data', '/proc/no-such-data'],
    ]) {
      const r = bourse(...args);
      assert.equal(r.code, 73, r.err);
      assert.match(r.err, /cannot create the folder \/proc\/no-such-data: ENOENT/);
    }
    assert.equal(bourse('replay', '--to-seq', '-1').code, 64);
    // A TMPDIR where no folder can be made: named, exit 73 (it was an internal error, 70).
    const noTmp = bourseWith({ TMPDIR: '/proc/no-such-tmp' }, 'bench', 'engine', '--small');
    assert.equal(noTmp.code, 73, noTmp.err);
    assert.match(noTmp.err, /cannot make a scratch folder in \/proc\/no-such-tmp \(TMPDIR\)/);
    const scenario = bourse('bench', 'nope');
    assert.equal(scenario.code, 64);
    assert.match(scenario.err, /scenario 'nope': one of engine, pipeline, e2e, replicated/);
    const rate = bourse('bench', 'engine', '--rate', '100');
    assert.equal(rate.code, 64, 'the engine bench has no open loop');
    // A report folder that cannot be written is refused before the bench runs (it hung in
    // the kernel under /proc, and failed as 'internal error' after the run elsewhere): exit 73
    // (can't create), the path and the reason named; it was 64, as if the flag were misused.
    for (const out of ['/dev/null/reports', '/proc/no-such-folder']) {
      const refused = bourse('bench', 'engine', '--small', '--out', out);
      assert.equal(refused.code, 73, refused.err);
      const said = new RegExp(
        `^bourse: --out ${out}: cannot write reports there \\((ENOTDIR|ENOENT)\\)`,
      );
      assert.match(refused.err, said);
      assert.doesNotMatch(refused.out, /bench:engine/, 'refused before the bench ran');
    }
    const zero = bourse('bench', 'e2e', '--small', '--rate', '0');
    assert.equal(zero.code, 64, 'an open loop needs a rate');
    assert.match(zero.err, /^bourse bench: --rate: '0' is not a whole number ≥ 1$/m);
    // An open loop sends rate x seconds commands: this one ran on, silent, for years.
    const typo = bourse('bench', 'pipeline', '--small', '--rate', '99999999999999');
    assert.equal(typo.code, 64, typo.err);
    assert.match(typo.err, /^bourse: --rate: 99999999999999: 1 to 5,000,000 commands\/s$/m);
    assert.match(bourse('bench', '--help').out, /Examples:\n {2}bourse bench engine/);
    // Every command's help has examples, the groups' too (keys and drill had none).
    assert.match(bourse('keys', '--help').out, /Examples:\n {2}bourse keys create/);
    assert.match(bourse('drill', '--help').out, /Examples:\n {2}bourse drill failover/);

    const held = DataLock.acquire(dir); // as a running node holds it
    const locked = bourse('start', '--data', dir);
    assert.equal(locked.code, 75);
    assert.match(locked.err, new RegExp(`in use by a running node \\(pid ${process.pid}`));
    held.release();
    writeFileSync(join(dir, dataLockFileName), '999999999\n'); // a killed node's: no lock held

    const marked = openJournalDb(dir, { create: false, readOnly: false });
    marked.meta.putSync('member', '1'); // as a cluster member's vote or recovery flag marks it
    closeJournalDb(marked);
    const member = bourse('start', '--data', dir);
    assert.equal(member.code, 64, 'a cluster member folder is not a single node');
    assert.match(member.err, /belongs to a cluster member/);
    // Its id alone too: a member that never voted nor lost its disk has no 'member' flag,
    // and `bourse start` ran its folder as a single node (its uncommitted tail as the truth).
    const named = openJournalDb(dir, { create: false, readOnly: false });
    named.meta.removeSync('member');
    named.meta.putSync('member-id', '2');
    closeJournalDb(named);
    const byId = bourse('start', '--data', dir);
    assert.equal(byId.code, 64, 'a member id marks a cluster member folder');
    assert.match(byId.err, /belongs to a cluster member, member 2 \(its journal may end/);
    const unmark = openJournalDb(dir, { create: false, readOnly: false });
    unmark.meta.removeSync('member-id');
    closeJournalDb(unmark);

    const db = openJournalDb(dir, { create: false, readOnly: false });
    const [last] = [...db.journal.getKeys({ reverse: true, limit: 1 })];
    const stored = Buffer.from(db.journal.getBinary(last) ?? []);
    db.meta.putSync('schema-version', '99');
    closeJournalDb(db);
    const schema = bourse('start', '--data', dir);
    assert.equal(schema.code, 65);
    assert.match(schema.err, /schema version 99; this build reads 1/);
    const env = open({ path: dataFile(dir), maxDbs: 8 });
    env.openDB<string, string>('meta', { encoding: 'string' }).putSync('schema-version', '1');
    await env.close();

    const file = dataFile(dir);
    const bytes = readFileSync(file);
    const at = bytes.indexOf(stored);
    assert.ok(at > 0);
    bytes[at + stored.byteLength - 100] ^= 1;
    writeFileSync(file, bytes);
    const before = readFileSync(file);
    const corrupt = bourse('start', '--data', dir);
    assert.equal(corrupt.code, 65);
    assert.match(
      corrupt.err,
      new RegExp(`batch at sequence ${last.readUInt32BE(4)} does not match`),
    );
    assert.ok(readFileSync(file).equals(before), 'the journal was not touched');
    assert.equal(sequenceKey(last.readUInt32BE(4)).equals(last), true);
    // inspect shows the events before the damaged batch (it printed nothing), then names it.
    const shown = bourse('inspect', '--data', dir, '--from-seq', '1', '--count', '1000000');
    assert.equal(shown.code, 65, shown.err);
    assert.match(shown.out, /^batch 1 at /m);
    assert.match(shown.err, new RegExp(`batch at sequence ${last.readUInt32BE(4)} does not match`));
  } finally {
    removeDir(dir);
  }
});

test("a cluster's folder is not a single node's: start refuses it, readers name members", () => {
  const dir = tempDataDir();
  try {
    writeFileSync(join(dir, 'cluster.json'), '{"members": []}\n');
    for (const id of [1, 2, 3]) mkdirSync(join(dir, `member-${id}`));
    // It started a new, empty exchange beside the members (journal.mdb in the cluster folder).
    const started = bourse('start', '--data', dir);
    assert.equal(started.code, 64, started.err);
    assert.match(started.err, /holds a cluster \(cluster\.json\): run it with `bourse cluster/);
    assert.equal(existsSync(dataFile(dir)), false, 'nothing written');
    for (const tool of ['replay', 'inspect', 'verify']) {
      const read = bourse(tool, '--data', dir);
      assert.equal(read.code, 66, `${tool}: ${read.err}`);
      assert.match(read.err, /a cluster's folder .* --data \S+member-1 \(member-1, member-2/);
    }
  } finally {
    removeDir(dir);
  }
});

/**
 * `bourse start --data ~` set a node up in the home folder, its files among the user's: a folder
 * with files in it and none of bourse's is refused (exit 78) before anything is written. An
 * empty folder, one bourse made (keys.json alone: `keys create` first) and a mount point
 * (lost+found alone) are taken: those starts get as far as the taken port (exit 69).
 */
test("start refuses a folder with files, none of them bourse's: 78, nothing written", async () => {
  const dir = tempDataDir();
  const tcp = createServer();
  try {
    await new Promise<void>((done) => tcp.listen(0, '127.0.0.1', done));
    const port = String((tcp.address() as AddressInfo).port);
    const home = join(dir, 'home');
    mkdirSync(join(home, 'src'), { recursive: true });
    writeFileSync(join(home, '.bashrc'), '# mine\n');
    for (let k = 0; k < 6; k++) writeFileSync(join(home, `notes-${k}.txt`), 'x');
    const refused = bourse('start', '--data', home, '--port', port);
    assert.equal(refused.code, 78, refused.err);
    assert.match(refused.err, new RegExp(`data folder ${home} is not a bourse data folder: `));
    assert.match(refused.err, /it holds \.bashrc, notes-0\.txt, .*, and 3 more, and no journal/);
    assert.match(refused.err, /; bourse start puts a node's files in a new or empty folder /);
    assert.match(refused.err, new RegExp(`such as --data ${join(home, 'bourse-data')}; `));
    assert.match(refused.err, /nothing was written \[NOT_DATA_FOLDER\]$/m);
    assert.equal(readdirSync(home).length, 8, 'nothing written there');
    const taken = (folder: string): void => {
      const r = bourse('start', '--data', folder, '--port', port);
      assert.equal(r.code, 69, `${folder}: ${r.err}`);
    };
    const mount = join(dir, 'mount');
    mkdirSync(join(mount, 'lost+found'), { recursive: true });
    taken(mount);
    const keyed = join(dir, 'keyed');
    assert.equal(bourse('keys', 'create', '--data', keyed, '--client', '3', '--admin').code, 0);
    writeFileSync(join(keyed, 'README'), 'my notes\n'); // beside bourse's own: as before
    taken(keyed);
    mkdirSync(join(dir, 'empty'));
    taken(join(dir, 'empty'));
  } finally {
    tcp.close();
    removeDir(dir);
  }
});

test('a port that cannot be bound: exit 69, the address named; a bad --listen: 64', async () => {
  const dir = tempDataDir();
  const tcp = createServer();
  const udp = createSocket('udp4');
  try {
    await new Promise<void>((done) => tcp.listen(0, '127.0.0.1', done));
    await new Promise<void>((done) => udp.bind(0, '127.0.0.1', done));
    const port = (tcp.address() as AddressInfo).port;
    const taken = bourse('start', '--data', join(dir, 'new', 'single'), '--port', String(port));
    assert.equal(taken.code, 69, taken.err);
    assert.match(taken.err, new RegExp(`cannot listen on 127.0.0.1:${port}: the port is in use`));
    // Bound before the folder is made: it made the folder and its journal, then failed.
    assert.equal(existsSync(join(dir, 'new')), false, 'no folder left behind');

    const replicationPort = udp.address().port;
    const members = [1, 2, 3].map((id) => ({
      id,
      host: '127.0.0.1',
      port: id === 1 ? port : 10 + id, // never reached: the replication port is bound first
      replicationPort: id === 1 ? replicationPort : 1 + id, // only member 1 runs
    }));
    const clusterFile = join(dir, 'cluster.json');
    writeFileSync(clusterFile, JSON.stringify({ members }));
    makeSecret(join(dir, 'replication.key'));
    const member = ['member', '--cluster', clusterFile, '--id', '1', '--data', join(dir, 'm1')];
    const busy = bourse(...member);
    assert.equal(busy.code, 69, busy.err);
    // Both named, before the member's folder is made (bourse member checks its ports first).
    const both =
      `cannot bind 127.0.0.1:${port} \\(tcp, member 1\\): EADDRINUSE; ` +
      `127.0.0.1:${replicationPort} \\(udp, member 1\\): EADDRINUSE: member 1 not started`;
    assert.match(busy.err, new RegExp(both));
    assert.equal(existsSync(join(dir, 'm1')), false, 'no member folder left behind');
    const listen = bourse(...member, '--listen', '999.0.0.1');
    assert.equal(listen.code, 64);
    assert.match(listen.err, /--listen: '999.0.0.1' is not an IP address/);
  } finally {
    tcp.close();
    udp.close();
    removeDir(dir);
  }
});

test('ports and cluster shapes that cannot work are refused before anything is written', () => {
  const dir = tempDataDir();
  try {
    const port = bourse('start', '--data', join(dir, 'single'), '--port', '99999');
    assert.equal(port.code, 64);
    assert.match(port.err, /--port: '99999' is not a port \(0 to 65535\)/);
    // 0 would mean "always": a snapshot started as soon as the last one was written.
    const always = bourse('start', '--data', join(dir, 'single'), '--snapshot-events', '0');
    assert.equal(always.code, 64);
    assert.match(always.err, /--snapshot-events: '0' is not a whole number ≥ 1/);
    const fromEnv = bourseWith({ BOURSE_PORT: '70000' }, 'start', '--data', join(dir, 'single'));
    assert.equal(fromEnv.code, 64);
    assert.match(fromEnv.err, /BOURSE_PORT: --port: '70000' is not a port/);
    for (const [ms, why] of [
      ['0', 'is not a whole number ≥ 1'],
      ['30001', 'is above 30000'],
    ]) {
      const flag = '--cancel-on-disconnect-grace-ms';
      const grace = bourse('start', '--data', join(dir, 'single'), flag, ms);
      assert.equal(grace.code, 64);
      assert.match(grace.err, new RegExp(`${flag}: '${ms}' ${why}`));
    }

    const local = join(dir, 'local');
    const tooMany = bourse('cluster', '--nodes', '9', '--data', local);
    assert.equal(tooMany.code, 64);
    assert.match(tooMany.err, /--nodes: 9: 1 to 7 members/);
    // Not "not a whole number ≥ 0" (then 0: "1 to 7"): one flag, one bound, said where checked.
    for (const [command, nodes] of [
      [['cluster'], 'x'],
      [['drill', 'failover'], '-1'],
    ] as const) {
      const notNumber = bourse(...command, '--nodes', nodes, '--data', local);
      assert.equal(notNumber.code, 64);
      assert.match(
        notNumber.err,
        new RegExp(`--nodes: '${nodes}' is not a number of members$`, 'm'),
      );
    }
    const high = bourse('cluster', '--nodes', '3', '--base-port', '65500', '--data', local);
    assert.equal(high.code, 64);
    assert.match(high.err, /--base-port: 65500: members use ports 65500..65502 and 65600..65602/);
    assert.equal(existsSync(local), false, 'no folder and no cluster file left behind');

    // Messages name their sender in one byte, and ids past 7 are dropped as garbage: such a
    // member would never be heard. Two members on one port would never both run.
    const file = join(dir, 'cluster.json');
    const member = (id: number, port: number, replicationPort: number): object => ({
      id,
      host: '127.0.0.1',
      port,
      replicationPort,
    });
    const run = ['member', '--cluster', file, '--id', '1', '--data', join(dir, 'm1')];
    for (const [members, why] of [
      [[member(1, 9001, 9101), member(10, 9002, 9102)], /member id 10: 1\.\.7/],
      [[member(1, 9001, 9101), member(1, 9002, 9102)], /member id 1 used twice/],
      [[member(1, 9001, 9101), member(2, 9002, 9101)], /port 127\.0\.0\.1:9101 \(udp\) used/],
      [[member(1, 9001, 9101), member(2, 9001, 9102)], /port 127\.0\.0\.1:9001 \(tcp\) used/],
    ] as const) {
      writeFileSync(file, JSON.stringify({ members }));
      const refused = bourse(...run);
      assert.equal(refused.code, 64, refused.err);
      assert.match(refused.err, why);
    }
    const two = [member(1, 9001, 9101), member(2, 9002, 9102)];
    for (const [capacities, why] of [
      [{ 'accounts-max': 0 }, /capacity "accounts-max": a whole number, 1 or more/],
      [{ accounts: 5 }, /capacity "accounts" is not one of accounts-max, assets-max/],
      [[1], /"capacities" is an object of flag names/],
    ] as const) {
      writeFileSync(file, JSON.stringify({ members: two, capacities }));
      const refused = bourse(...run);
      assert.equal(refused.code, 64, refused.err);
      assert.match(refused.err, why);
    }
    assert.equal(existsSync(join(dir, 'm1')), false, 'no member folder made');
    // A cluster's capacities grow, never shrink (every member checks its folder's against them).
    const folder = join(dir, 'cluster');
    mkdirSync(folder);
    const kept = JSON.stringify({ members: two, capacities: { 'accounts-max': 300_000 } });
    writeFileSync(join(folder, 'cluster.json'), kept);
    const shrunk = bourse('cluster', '--data', folder, '--accounts-max', '1000');
    assert.equal(shrunk.code, 64, shrunk.err);
    assert.match(shrunk.err, /--accounts-max 1000: \S+cluster\.json keeps 300000 for every member/);
    assert.equal(readFileSync(join(folder, 'cluster.json'), 'utf8'), kept, 'the file as it was');
    assert.deepEqual(readdirSync(folder), ['cluster.json'], 'no member started');

    // A drill kills the primary: with fewer than 3 members no majority is left to elect.
    for (const [flag, value, why] of [
      ['--nodes', '1', /--nodes: 1: 3 to 7 \(a kill must leave a majority\)/],
      ['--nodes', '9', /--nodes: 9: 3 to 7/],
      ['--window', '0', /--window: 1 to 100,000 transfers in flight/],
      ['--window', '200000', /--window: 1 to 100,000 transfers in flight/],
      // Past its members' accounts capacity: refused at once, not after minutes of set-up.
      ['--accounts', '262145', /--accounts: 1 to 262,144 \(the accounts capacity its members/],
      ['--accounts', '0', /--accounts: 1 to 262,144/],
    ] as const) {
      const drill = bourse('drill', 'failover', '--kills', '1', flag, value);
      assert.equal(drill.code, 64, drill.err);
      assert.match(drill.err, why);
    }
  } finally {
    removeDir(dir);
  }
});

/** Runs `bourse start` until it is ready, then Ctrl-C; resolves with its stdout. */
async function startOnce(...args: string[]): Promise<string> {
  const child = spawn(process.execPath, [main, 'start', '--port', '0', ...args], {
    stdio: 'pipe',
  });
  let out = '';
  let sent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (sent || !out.includes('ready')) return;
    sent = true; // one Ctrl-C: a second one kills it
    child.kill('SIGINT');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, out);
  return out;
}

test('capacities: set by flag, kept by the folder, grown but never shrunk', async () => {
  const dir = tempDataDir();
  try {
    const data = join(dir, 'node');
    const first = await startOnce('--data', data, '--accounts-max', '300000');
    assert.match(first, /capacity: +300,000 accounts, 262,144 orders, 15 assets/);
    assert.match(first, /\ndisk: +\d+ [GM]B free/);
    assert.match(await startOnce('--data', data), /capacity: +300,000 accounts/, 'kept');
    const shrink = bourse('start', '--data', data, '--accounts-max', '1000');
    assert.equal(shrink.code, 64);
    assert.match(shrink.err, /--accounts-max 1000 is below the 300000 this data folder ran with/);
    // From a config file, the refusal names the file, as other settings' refusals do.
    const file = join(dir, 'small.json');
    writeFileSync(file, JSON.stringify({ 'accounts-max': 1000 }));
    const fromFile = bourse('start', '--data', data, '--config', file);
    assert.equal(fromFile.code, 64);
    assert.match(
      fromFile.err,
      /small\.json: accounts-max: --accounts-max 1000 is below the 300000/,
    );
    const odd = bourse('start', '--data', join(dir, 'new'), '--orders-max', '1000');
    assert.equal(odd.code, 64);
    assert.match(odd.err, /capacities refused: levels at most orders/);
    // Too large: refused (64) and not kept, each said as what it is. --orders-max 50M and
    // --pending-max 100M ended in exit 70 (a typed array past its length limit). The memory is
    // set so that the first passes the memory check on any machine (its 5 GiB of tables are
    // lazy; the snapshotter's one buffer of them all is past the limit) and the second fails.
    for (const [flag, value, gib, said] of [
      ['--orders-max', '50000000', '1024', "longer than V8's typed array length limit"],
      ['--pending-max', '100000000', '8', "does not fit in this machine's memory"],
    ]) {
      const memory = { BOURSE_TEST_MEMORY_BYTES: String(Number(gib) * 2 ** 30) };
      const huge = bourseWith(memory, 'start', '--data', join(dir, 'huge'), flag, value);
      assert.equal(huge.code, 64, huge.err);
      assert.match(huge.err, new RegExp(`${said} \\(.*${flag} ${value}`));
    }
    assert.match(await startOnce('--data', join(dir, 'huge')), /262,144 orders, .* 65,536 pending/);
    const grown = await startOnce('--data', data, '--orders-max', '400000');
    assert.match(grown, /capacity: +300,000 accounts, 400,000 orders/);
    const replayed = bourse('replay', '--data', data, '--balances');
    assert.equal(replayed.code, 0, replayed.err);
  } finally {
    removeDir(dir);
  }
});

/**
 * An empty folder name (`--data "$DIR"` with DIR unset, BOURSE_DATA set empty, `data: ""` in
 * a settings file) is a usage error naming the flag. It read "data folder  does not exist"
 * (exit 66): a folder with no name, and from start, which makes a missing folder, no reason.
 * An empty --host is too: the node served every interface, on a port the kernel chose.
 */
test('an empty --data, --to, BOURSE_DATA or BOURSE_HOST: exit 64, the flag named', () => {
  const cwd = readdirSync('.');
  for (const [env, args, said] of [
    [{}, ['start', '--data', '', '--port', '0'], /^bourse: --data: '' names no folder/],
    [{ BOURSE_DATA: '' }, ['verify'], /^bourse: BOURSE_DATA: --data: '' names no folder/],
    [{}, ['inspect', '--data', ''], /^bourse: --data: '' names no folder \(is a variable unset/],
    [{}, ['backup', '--to', ''], /^bourse: --to: '' names no folder/],
    // A settings file with no name: it read "--config: cannot read  (ENOENT)".
    [{}, ['inspect', '--config', ''], /^bourse: --config: '' names no file \(is a variable/],
    // It served every interface, on a port the kernel chose rather than --port.
    [{ BOURSE_HOST: '' }, ['start', '--port', '0'], /^bourse: BOURSE_HOST: --host: '' names no/],
  ] as const) {
    const r = bourseWith(env, ...args);
    assert.equal(r.code, 64, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, said);
  }
  assert.deepEqual(readdirSync('.'), cwd, 'nothing made where it ran');
});

/**
 * A one-shot command whose reader closed early ends with the code it came to: verify on a
 * damaged folder, its output read by `grep -q` or `head` (under pipefail), ended 0, since
 * main.ts ended every command at EPIPE with 0.
 */
test('verify of a damaged folder into a pipe its reader closed: still exit 65', async () => {
  const dir = await dataWith(40);
  try {
    const db = openJournalDb(dir, { create: false, readOnly: false });
    db.meta.putSync('standby-log', 'x y'); // a member's log's mark: the verdict is CORRUPT
    await closeJournalDb(db);
    const told = bourse('verify', '--data', dir);
    assert.equal(told.code, 65, 'damaged');
    assert.match(told.out, /^verify: CORRUPT: /m, 'said on stdout, which the reader closed');
    const child = spawn(process.execPath, [main, 'verify', '--data', dir]);
    child.stdout.destroy(); // `bourse verify | true`
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(code, 65, err);
    assert.doesNotMatch(err, /EPIPE/);
  } finally {
    removeDir(dir);
  }
});
