/**
 * StandbyLog's appends on a file whose writes take part of what they are given (a full disk
 * under a log whose blocks are not all allocated) or nothing: append and appendSync write the
 * rest again until the record is whole, and a write that takes nothing is an EIO. One helper
 * (writeWhole) does it for both, and for the zero-fill of a new log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StandbyLog, type LogFile } from '../../../src/replication/standby-log.js';

/** A file in memory whose writes take at most `take` bytes (0: none), at once or later. */
function partFile(take: number, later: boolean): LogFile & { writes: number } {
  const data = Buffer.alloc(1 << 20);
  const file = {
    bytes: data.length,
    writes: 0,
    read: (into: Buffer, offset: number, length: number, position: number) =>
      void data.copy(into, offset, position, position + length),
    writeSync(from: Buffer, offset: number, length: number, position: number): number {
      file.writes++;
      const n = Math.min(take, length);
      from.copy(data, position, offset, offset + n);
      return n;
    },
    write(...[from, offset, length, position, done]: Parameters<LogFile['write']>): void {
      const n = file.writeSync(from, offset, length, position);
      if (later) setImmediate(() => done(null, n));
      else done(null, n);
    },
    close: () => {},
  };
  return file;
}

const payload = Uint8Array.from({ length: 5_000 }, (_, k) => k % 251);
const record = [[{ payload }]];

test('appendSync writes a record whole through partial writes, one byte at a time too', () => {
  for (const take of [1, 7, 4_096]) {
    const file = partFile(take, false);
    const log = new StandbyLog(file);
    const after = log.appendSync(record, 3);
    const bytes = StandbyLog.sizeOf(record);
    assert.equal(file.writes, Math.ceil(bytes / take), `${take} bytes a write`);
    const read = log.readAt({ record: 1, offset: 0 });
    assert.deepEqual(read?.groups, [[Buffer.from(payload)]]);
    assert.deepEqual(read?.after, after);
  }
});

test('append writes a record whole through partial writes called back now or later', async () => {
  for (const later of [false, true]) {
    const file = partFile(1_000, later);
    const log = new StandbyLog(file);
    const after = await log.append(record, 4);
    assert.equal(file.writes, Math.ceil(StandbyLog.sizeOf(record) / 1_000));
    assert.deepEqual(log.readAt({ record: 1, offset: 0 })?.groups, [[Buffer.from(payload)]]);
    assert.deepEqual(log.next, after, 'the tail moved past the whole record');
  }
});

test('a write that takes nothing is an EIO at its offset, and the tail stays', async () => {
  const none = new StandbyLog(partFile(0, false));
  assert.throws(() => none.appendSync(record, 1), /EIO: the standby log took no byte .* 0$/);
  assert.deepEqual(none.next, { record: 1, offset: 0 });
  const part = new StandbyLog({ ...partFile(0, true), writeSync: () => 0 });
  await assert.rejects(part.append(record, 1), { code: 'EIO' });
  assert.deepEqual(part.next, { record: 1, offset: 0 });
});
