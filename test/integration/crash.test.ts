/**
 * Crash safety: a bounded loop kills a loaded node with SIGKILL at random points. After each
 * kill the journal must be intact to its last durable batch, hold every acknowledged command,
 * and the restarted node's state must equal a full replay of the journal.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { smallConfig } from '../harness/engine-driver.js';
import { closeJournalDb, openJournalDb, sequenceKey } from '../../src/journal/journal-db.js';
import { readBatches } from '../../src/journal/journal-reader.js';
import { genesisHash } from '../../src/journal/journal-codec.js';
import { Replica } from '../../src/pipeline/replay.js';
import { openStandbyLog } from '../../src/pipeline/group-commit.js';
import { JournalLogStore } from '../../src/pipeline/journal-log.js';

const script = fileURLToPath(new URL('../harness/load-node.js', import.meta.url));
const rounds = 6;

interface Round {
  acked: number;
  ready: { sequence: number; checksum: string };
}

/** Runs one loaded node and kills it `killAfterMs` after it is ready. */
function runAndKill(
  dir: string,
  client: number,
  killAfterMs: number,
  journalLog: boolean,
): Promise<Round> {
  const args = [script, dir, String(client), '1000000', journalLog ? 'journal-log' : ''];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const round: Round = { acked: 0, ready: { sequence: -1, checksum: '' } };
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const [word, a, b] = line.split(' ');
      if (word === 'READY') {
        round.ready = { sequence: Number(a), checksum: b };
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      } else if (word === 'ACK') {
        round.acked = Math.max(round.acked, Number(b));
      }
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL') resolve(round);
      else reject(new Error(`load node exited with ${code ?? signal} before the kill`));
    });
  });
}

/** The whole journal, checked: client → highest clientSeq present, and a full replay. */
function audit(dir: string): { seen: Map<number, Set<number>>; replica: Replica } {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  const seen = new Map<number, Set<number>>();
  try {
    readBatches(db, sequenceKey(0), genesisHash, (view) => {
      const dv = new DataView(view.events.buffer, view.events.byteOffset, view.events.byteLength);
      for (let at = 0; at < view.events.byteLength; at += 128) {
        const client = dv.getUint32(at + 24, true);
        const clientSeq = dv.getUint32(at + 16, true);
        if (!seen.has(client)) seen.set(client, new Set());
        seen.get(client)?.add(clientSeq);
      }
      return true;
    });
    const replica = new Replica(smallConfig);
    replica.replay(db, Infinity);
    return { seen, replica };
  } finally {
    closeJournalDb(db);
  }
}

/**
 * Kills a loaded node `rounds` times; `journalLog`: it writes through its journal log, and the
 * audit first replays the log as the next start does (what it acknowledged may be there only).
 */
async function killLoop(t: TestContext, journalLog: boolean): Promise<void> {
  const dir = tempDataDir();
  try {
    let seed = 12345;
    const acked = new Map<number, number>();
    let previous: Replica | null = null;
    for (let round = 1; round <= rounds; round++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const r = await runAndKill(dir, round, 150 + (seed % 700), journalLog);
      const replayed = journalLog ? replayLog(dir) : 0;
      if (previous !== null) {
        assert.equal(r.ready.sequence, previous.sequence, `round ${round}: recovered to the end`);
        assert.equal(r.ready.checksum, previous.engine.checksum.hex(), `round ${round}: state`);
      }
      acked.set(round, r.acked);
      const { seen, replica } = audit(dir);
      for (const [client, upTo] of acked) {
        for (let s = 1; s <= upTo; s++) {
          assert.ok(seen.get(client)?.has(s), `round ${round}: ack ${client}/${s} is journaled`);
        }
      }
      previous = replica;
      t.diagnostic(`round ${round}: ${r.acked} acked, journal at ${replica.sequence}`);
      if (journalLog) t.diagnostic(`round ${round}: ${replayed} records only in the log`);
    }
    assert.ok(
      [...acked.values()].some((n) => n > 0),
      'the loop acknowledged commands',
    );
  } finally {
    removeDir(dir);
  }
}

test('SIGKILL under load loses no acked command; restart equals a full replay', (t) =>
  killLoop(t, false));

test('the same with the journal log: what only the log held is replayed', (t) => killLoop(t, true));

/** Replays the folder's journal log into LMDB, as a start does; returns how many records. */
function replayLog(dir: string): number {
  const db = openJournalDb(dir, { create: false, readOnly: false });
  try {
    let replayed = 0;
    const said = (line: string): void => {
      replayed = Number(/(\d+) records replayed/.exec(line)?.[1] ?? 0);
    };
    const options = { who: 'the node', dataDir: dir, standbyLog: true };
    openStandbyLog(new JournalLogStore(db), options, said)?.close();
    return replayed;
  } finally {
    void closeJournalDb(db);
  }
}
