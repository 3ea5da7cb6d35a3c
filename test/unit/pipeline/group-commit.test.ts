/**
 * A standby's group commit (src/pipeline/group-commit.ts), over a store that records what it is
 * given. Entries of one turn go in one write; what arrives during a write waits for it and goes
 * in the next; and the status of a write (queued by the sink's stored(), sent by the transport
 * in a microtask) goes out before the next write begins. The store begins its write in the call
 * (ReplicaStore.writeMany), so a next write queued first woke LMDB's thread before the status
 * left: on two busy cores that thread could take the core the status was waiting for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from '../../../src/pipeline/group-commit.js';
import type { Entry } from '../../../src/replication/messages.js';
import type { ReplicaStore } from '../../../src/replication/replica-store.js';
import { StandbyLog, type LogFile } from '../../../src/replication/standby-log.js';

function entry(first: number): Entry {
  const payload = new Uint8Array(8);
  return { term: 1, first, last: first, count: 1, prevHash: '', hash: `h${first}`, payload };
}

/** A store whose writes finish when the test says so; `log` records writes and statuses. */
function recordingStore(log: string[]): { store: ReplicaStore; finish: () => void } {
  const finishes: (() => void)[] = [];
  const store = {
    writeMany(writes: readonly (readonly Entry[])[]): Promise<void> {
      log.push(
        `write ${writes
          .flat()
          .map((e) => e.first)
          .join(',')}`,
      );
      return new Promise<void>((resolve) => finishes.push(resolve));
    },
    noteUnapplied: () => {},
    dropApplied: () => {},
  } as unknown as ReplicaStore;
  return { store, finish: () => (finishes.shift() as () => void)() };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("a write's status goes out before the next write begins", async () => {
  const log: string[] = [];
  const { store, finish } = recordingStore(log);
  const commit = new GroupCommit(store, null, {
    // As the member's sink does: the status is queued, the transport sends it in a microtask.
    stored: (index) => queueMicrotask(() => log.push(`status ${index}`)),
    failed: (error) => assert.fail(error),
    committedSequence: () => 0,
    stopped: () => false,
    writing: () => {},
  });
  commit.add([entry(1)], 1);
  commit.add([entry(2)], 2); // the same turn: the same write
  await turn();
  assert.deepEqual(log, ['write 1,2']);
  commit.add([entry(3)], 3); // during the write: waits for it
  commit.add([entry(4)], 4);
  await turn();
  assert.deepEqual(log, ['write 1,2'], 'one write at a time');
  finish();
  await turn();
  // Before: 'write 3,4' came before 'status 2'.
  assert.deepEqual(log, ['write 1,2', 'status 2', 'write 3,4']);
  finish();
  await turn();
  assert.deepEqual(log, ['write 1,2', 'status 2', 'write 3,4', 'status 4']);
  await commit.drain();
});

// The member defers a follow-limit move while `writing` (its stored() moves the limit): that
// is sound only if a stored() or failed() comes after every moment `writing` is true.
test('while writing, a stored() or failed() is still to come', async () => {
  const log: string[] = [];
  const { store, finish } = recordingStore(log);
  const seen: string[] = [];
  let commit: GroupCommit | null = null;
  const sink = {
    stored: (index: number) => seen.push(`stored ${index}, writing ${commit?.writing}`),
    failed: () => seen.push(`failed, writing ${commit?.writing}`),
    committedSequence: () => 0,
    stopped: () => false,
    writing: () => {},
  };
  commit = new GroupCommit(store, null, sink);
  assert.equal(commit.writing, false, 'nothing received');
  commit.add([entry(1)], 1);
  assert.equal(commit.writing, true, 'received, its write not begun');
  await turn();
  assert.equal(commit.writing, true, 'its write under way');
  commit.add([entry(2)], 2);
  finish();
  await turn();
  assert.deepEqual(seen, ['stored 1, writing true'], 'entry 2 waits: another stored() comes');
  finish();
  await turn();
  assert.deepEqual(seen.slice(1), ['stored 2, writing false']);
  assert.equal(commit.writing, false);
  // A write that fails: nothing more is written, and nothing says it is.
  const failing = new GroupCommit(
    { writeMany: () => Promise.reject(new Error('disk')) } as unknown as ReplicaStore,
    null,
    sink,
  );
  commit = failing;
  failing.add([entry(3)], 3);
  await turn();
  assert.deepEqual(seen.slice(2), ['failed, writing false']);
  failing.add([entry(4)], 4);
  assert.equal(failing.writing, false, 'a broken group commit writes no more');
});

/** A standby log's file in memory whose writes are durable a microtask later. */
function memoryFile(bytes: number): LogFile {
  const data = Buffer.alloc(bytes);
  return {
    bytes,
    read: (into, offset, length, position) => void data.copy(into, offset, position, length),
    write: (from, offset, length, position, done) => {
      from.copy(data, position, offset, offset + length);
      queueMicrotask(() => done(null, length));
    },
    writeSync: () => assert.fail('no synchronous write'),
    close: () => {},
  };
}

// Found by the simulation's group-commit mix (bench/soak/sim-group-commit.ts): entries that
// arrived just before a clean stop waited for their flush's turn; storeLeft awaited LMDB's
// write of the log, the flush ran in that time, saw the member stopped and dropped them, and
// the journal the stop left lacked what memory held.
test('a clean stop stores what arrived as it began, while LMDB took the log', async () => {
  const log: string[] = [];
  const { store, finish } = recordingStore(log);
  let stopped = false;
  const commit = new GroupCommit(store, new StandbyLog(memoryFile(4_096)), {
    stored: (index) => log.push(`stored ${index}`),
    failed: (error) => assert.fail(error),
    committedSequence: () => 0,
    stopped: () => stopped,
    writing: () => {},
  });
  commit.add([entry(1)], 1);
  await turn();
  assert.deepEqual(log, ['write 1', 'stored 1'], 'in the log: into LMDB, and acknowledged');
  commit.add([entry(2)], 2); // its flush waits for the turn's end
  stopped = true;
  const left = commit.storeLeft(); // awaits LMDB's write of entry 1
  await turn();
  finish();
  await turn();
  // Before: ['write 1', 'stored 1'], entry 2 dropped by a flush that saw the member stopped.
  assert.deepEqual(log, ['write 1', 'stored 1', 'write 2']);
  finish();
  await left;
});
