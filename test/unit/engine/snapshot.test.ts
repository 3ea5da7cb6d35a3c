import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { opArbitrary } from '../../harness/generators.js';
import { playOps, start } from '../../harness/model-run.js';
import { Engine } from '../../../src/engine/engine.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import { scanChecksum } from '../../../src/engine/checksum-scan.js';
import { assertSameAccountLists } from '../../harness/account-lists.js';
import { usedBytes, type StateImage } from '../../../src/stdx/state-image.js';

/**
 * Copies an image's arrays as a snapshot stores them: only each array's used bytes (checked to
 * be followed by zeros in the live state), with the full lengths apart. A snapshot must not
 * alias the live state.
 */
function copy(image: StateImage): { arrays: Uint8Array[]; counters: number[]; lengths: number[] } {
  const arrays = image.arrays.map((a, i) => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const used = usedBytes(image, i);
    assert.ok(used >= 0 && used <= a.byteLength, `array ${i}: used bytes within it`);
    assert.ok(
      bytes.subarray(used).every((b) => b === 0),
      `array ${i}: only zeros past its ${used} used bytes`,
    );
    return bytes.slice(0, used);
  });
  return { arrays, counters: [...image.counters], lengths: image.arrays.map((a) => a.byteLength) };
}

test('an engine restored from an image goes on exactly like the original', () => {
  const ops = fc.array(opArbitrary, { minLength: 10, maxLength: 80 });
  fc.assert(
    fc.property(ops, ops, (before, after) => {
      const run = start(smallConfig);
      playOps(run, before);
      // Snapshots are taken between events; an open linked chain has none yet. Another client's
      // command breaks the chain, as in the pipeline, so the image is at an event boundary.
      // (The position alone misses a chain whose member came with expiries: their events carry
      // the member's sequence. Seed 1042080600 found it.)
      if (run.d.engine.chainOpen() || run.d.engine.position()[0] !== run.d.sequence) {
        run.submit({ kind: CommandKind.Tick, clientId: 9, clientSeq: run.next(9) });
      }
      assert.equal(run.d.engine.position()[0], run.d.sequence, 'image at an event boundary');
      assert.equal(run.d.engine.chainOpen(), false, 'no chain open');
      const saved = copy(run.d.engine.image());
      // The twin has a state of its own first: restoring must clear what the image does not hold.
      const other = start(smallConfig);
      playOps(other, after);
      const twin = other.d;
      twin.engine.restore(saved.arrays, saved.counters, saved.lengths);
      copy(twin.engine.image()); // checks a restored state keeps zeros past its used bytes
      assert.equal(twin.engine.checksum.hex(), run.d.engine.checksum.hex());
      assert.equal(scanChecksum(twin.engine).hex(), twin.engine.checksum.hex());
      assertSameAccountLists(twin.engine, run.d.engine, 'restored = original');
      const from = run.history.length;
      playOps(run, after); // checked against the model as it goes
      for (let i = from; i < run.history.length; i++) {
        const got = twin.submitAt(run.history[i], run.sequences[i], run.timestamps[i]);
        assert.deepEqual(got, run.results[i], `command ${i}`);
      }
      assert.equal(twin.engine.checksum.hex(), run.d.engine.checksum.hex());
      copy(twin.engine.image());
    }),
    { numRuns: 60 },
  );
});

test('restore refuses an image of another size', () => {
  const small = new Engine(smallConfig);
  const other = new Engine({ ...smallConfig, accountCountMax: 512 });
  const image = copy(other.image());
  assert.throws(() => small.restore(image.arrays, image.counters, image.lengths));
});

test('restoring a shorter image into a larger state clears what the image does not hold', () => {
  const small = new EngineDriver(smallConfig);
  small.submit({ kind: CommandKind.CreateAccount, account: 7 });
  const big = new EngineDriver(smallConfig);
  for (let a = 1; a <= 40; a++) big.submit({ kind: CommandKind.CreateAccount, account: a });
  for (let c = 2; c <= 9; c++) big.submit({ kind: CommandKind.Tick, clientId: c, clientSeq: 1 });
  const saved = copy(small.engine.image());
  big.engine.restore(saved.arrays, saved.counters, saved.lengths);
  const want = small.engine.image();
  const got = big.engine.image();
  want.arrays.forEach((a, i) => {
    const bytes = (v: ArrayBufferView): Uint8Array =>
      new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    assert.ok(Buffer.from(bytes(got.arrays[i])).equals(bytes(a)), `array ${i} as saved`);
  });
  assert.equal(big.engine.checksum.hex(), small.engine.checksum.hex());
});
