/**
 * Sparse snapshots (layout 8, src/journal/snapshot-runs.ts): an array encodes to the runs where
 * it differs from its base and decodes to the same bytes; an engine's whole state goes through
 * them bit for bit, free lists and hash-table layouts included, and a twin restored from them
 * goes on exactly as the original, as a standby restored from a snapshot must go on as one that
 * replayed the journal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runsFault, RunsSource } from '../../../src/journal/snapshot-runs.js';
import { bodyBytesMax, encodeBody } from '../../../src/journal/snapshot-body.js';
import { basesOf, ImageBase, type StateImage } from '../../../src/stdx/state-image.js';
import { smallConfig } from '../../harness/engine-driver.js';
import { opArbitrary } from '../../harness/generators.js';
import { playOps, start, type Run } from '../../harness/model-run.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import { scanChecksum } from '../../../src/engine/checksum-scan.js';
import type { Engine } from '../../../src/engine/engine.js';

interface Encoded {
  source: RunsSource;
  lengths: number[];
  storedBytes: number;
}

/** Encodes `image` as a snapshot does (into a flat buffer), and reads it back. */
function roundTrip(image: StateImage): Encoded {
  const target = new Uint8Array(bodyBytesMax(image));
  const { arrays, bodyBytes } = encodeBody(target, image);
  const body = Buffer.from(target.buffer, 0, bodyBytes);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [full, stored, runs] of arrays) {
    const part = body.subarray(at, at + stored);
    assert.equal(runsFault(part, full, runs), null, 'the runs check out');
    parts.push(part);
    at += stored;
  }
  assert.equal(at, body.byteLength, 'the body is the arrays, one after another');
  const source = new RunsSource(
    parts,
    arrays.map(([, , runs]) => runs),
    basesOf(image),
  );
  return { source, lengths: arrays.map(([full]) => full), storedBytes: at };
}

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Every array of `got` equals `want`'s, byte for byte. */
function assertSameArrays(got: Engine, want: Engine, what: string): void {
  const a = got.image().arrays;
  const b = want.image().arrays;
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(bytesOf(a[i]).equals(bytesOf(b[i])), `${what}: array ${i} bit for bit`);
  }
}

const baseArb = fc.constantFrom(ImageBase.Zeros, ImageBase.AllOnes, ImageBase.Countdown);

test('an array encodes to its runs off its base and decodes to the same bytes', () => {
  const edits = fc.array(fc.tuple(fc.nat(255), fc.integer()), { maxLength: 40 });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 256 }), baseArb, edits, (words, base, changes) => {
      const a = new Int32Array(words);
      if (base === ImageBase.AllOnes) a.fill(-1);
      if (base === ImageBase.Countdown) for (let i = 0; i < words; i++) a[i] = words - 1 - i;
      for (const [at, value] of changes) a[at % words] = value;
      const image: StateImage = { arrays: [a], counters: [], bases: [base] };
      const { source, storedBytes } = roundTrip(image);
      const differing = a.filter((v, i) => v !== new Int32Array(baseCopy(words, base))[i]);
      assert.ok(storedBytes <= 8 * differing.length + 4 * differing.length);
      // Into a target holding other bytes: only what may differ from the base is given (dirty).
      const target = new Uint8Array(words * 4).fill(0x5a);
      source.write(0, target, target.byteLength);
      assert.ok(Buffer.from(target).equals(bytesOf(a)));
    }),
    { numRuns: 300 },
  );
});

function baseCopy(words: number, base: ImageBase): ArrayBuffer {
  const a = new Int32Array(words);
  if (base === ImageBase.AllOnes) a.fill(-1);
  if (base === ImageBase.Countdown) for (let i = 0; i < words; i++) a[i] = words - 1 - i;
  return a.buffer;
}

test('arrays of any byte length keep their tail; past their used bytes they are zeros', () => {
  const bytes = new Uint8Array(23).fill(7);
  const used = 12; // the copy past it holds leftovers, never read
  const image: StateImage = { arrays: [bytes], counters: [], used: [used] };
  const { source } = roundTrip(image);
  const target = new Uint8Array(23).fill(1);
  source.write(0, target, 23);
  assert.deepEqual([...target], [...new Uint8Array(23).fill(7, 0, used)]);
  const whole = roundTrip({ arrays: [bytes], counters: [] });
  whole.source.write(0, target, 23);
  assert.deepEqual([...target], [...bytes]);
});

test('runs that leave their array are refused', () => {
  const head = Buffer.alloc(12);
  head.writeUInt32LE(3, 0); // 3 words of base, then one of 4 bytes: past an 8-byte array
  head.writeUInt32LE(1, 4);
  assert.equal(runsFault(head, 8, 1), 'has a run past its array');
  assert.equal(runsFault(head, 16, 1), null);
  assert.equal(runsFault(head.subarray(0, 10), 16, 1), 'has a run past its array');
  assert.equal(runsFault(head, 16, 2), 'has an array cut short');
  assert.equal(runsFault(head, 17, 1), 'has an array of the wrong length');
});

/** Brings `run` to an event boundary with no linked chain open, as snapshots are taken. */
function atBoundary(run: Run): void {
  if (run.d.engine.chainOpen() || run.d.engine.position()[0] !== run.d.sequence) {
    run.submit({ kind: CommandKind.Tick, clientId: 9, clientSeq: run.next(9) });
  }
  assert.equal(run.d.engine.chainOpen(), false, 'no chain open');
}

test('a state through a sparse snapshot is restored bit for bit and goes on the same', () => {
  const ops = fc.array(opArbitrary, { minLength: 10, maxLength: 80 });
  fc.assert(
    fc.property(ops, ops, (before, after) => {
      const run = start(smallConfig);
      playOps(run, before);
      atBoundary(run);
      const { source, lengths } = roundTrip(run.d.engine.image());
      // The twin has a state of its own first: restoring must clear what the image does not hold.
      const other = start(smallConfig);
      playOps(other, after);
      const twin = other.d;
      twin.engine.restore(source, [...run.d.engine.image().counters], lengths);
      assertSameArrays(twin.engine, run.d.engine, 'restored');
      assert.equal(twin.engine.checksum.hex(), run.d.engine.checksum.hex());
      assert.equal(scanChecksum(twin.engine).hex(), twin.engine.checksum.hex());
      const from = run.history.length;
      playOps(run, after); // checked against the model as it goes
      for (let i = from; i < run.history.length; i++) {
        const got = twin.submitAt(run.history[i], run.sequences[i], run.timestamps[i]);
        assert.deepEqual(got, run.results[i], `command ${i}`);
      }
      assertSameArrays(twin.engine, run.d.engine, 'after the same commands');
    }),
    { numRuns: 60 },
  );
});
