/**
 * `bourse inspect` prints as it reads: a batch's lines go out before the next batch is read,
 * and it waits for stdout to drain when stdout is full, so its memory is a batch's whatever
 * --count asks (it gathered every line and joined them: a journal of 4.5M events held 2 GB and
 * died of "Invalid string length", exit 70).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { journaledFolder } from '../harness/journaled-folder.js';
import { removeDir } from '../harness/node-driver.js';
import { inspect } from '../../src/cli/inspect.js';

/**
 * What `run` writes to stdout, one string per write, instead of printing it. With `full`,
 * stdout is full after every write and drains on the next turn of the event loop: a write made
 * before then fails the test.
 */
async function captured(run: () => Promise<unknown>, full: boolean): Promise<string[]> {
  const writes: string[] = [];
  const write = process.stdout.write;
  let waiting = false;
  process.stdout.write = ((chunk: string) => {
    assert.equal(waiting, false, 'a write while stdout is full');
    writes.push(chunk);
    if (!full) return true;
    waiting = true;
    setImmediate(() => {
      waiting = false;
      process.stdout.emit('drain');
    });
    return false;
  }) as typeof write;
  try {
    await run();
  } finally {
    process.stdout.write = write;
  }
  return writes;
}

test('inspect writes each batch as it reads it, and waits while stdout is full', async () => {
  const shape = { count: 2_000, chunk: 250, snapshotEvents: 10_000, pauseMs: 0 };
  const dir = await journaledFolder(shape);
  try {
    const all = { data: dir, fromSeq: 1, count: 1_000_000 };
    let printed = 0;
    const writes = await captured(async () => (printed = await inspect(all)), false);
    const lines = writes.join('').split('\n');
    const events = lines.filter((line) => line.startsWith('  #'));
    const batches = lines.filter((line) => line.startsWith('batch '));
    assert.ok(batches.length > 2, `several batches (${batches.length})`);
    assert.equal(writes.length, batches.length, 'one write per batch');
    assert.equal(events.length, printed);
    assert.ok(printed >= 2_000, `every event (${printed})`);
    for (const chunk of writes) assert.equal(chunk.match(/^batch /gm)?.length, 1);
    // Full after each write: the same lines, each batch written once stdout drained.
    const paced = await captured(() => inspect(all), true);
    assert.deepEqual(paced, writes);
    // From inside a batch, a few: its header once, over the first event shown.
    const few = await captured(() => inspect({ data: dir, fromSeq: 1_001, count: 3 }), true);
    const some = few.join('');
    assert.equal(some.match(/^batch /gm)?.length, 1);
    const shown = some.match(/^ {2}#\d+ /gm) ?? [];
    assert.deepEqual([shown.length, shown[0]], [3, '  #1001 ']);
  } finally {
    removeDir(dir);
  }
});
