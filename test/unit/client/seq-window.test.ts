import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeqWindow } from '../../../src/client/seq-window.js';

type Op = { set: number } | { del: number } | { clear: true };

/** Seqs set in increasing order with gaps (a batch's seqs), deletes of any seq near them. */
const ops = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }).map((gap): Op => ({ set: gap })) },
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 3_000 }).map((back): Op => ({ del: back })) },
    { weight: 1, arbitrary: fc.constant<Op>({ clear: true }) },
  ),
  { maxLength: 2_000 },
);

test('seq-window holds what a Map would, through growth, holes and clears', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 40 }), ops, (first, list) => {
      const window = new SeqWindow<string>();
      const model = new Map<number, string>();
      let next = first;
      for (const op of list) {
        if ('set' in op) {
          next += op.set;
          window.set(next, `v${next}`);
          model.set(next, `v${next}`);
        } else if ('del' in op) {
          const seq = next - op.del;
          assert.equal(window.delete(seq), model.delete(seq));
        } else {
          window.clear();
          model.clear();
        }
        assert.equal(window.size, model.size);
      }
      for (let seq = next - 3_100; seq <= next + 1; seq++) {
        assert.equal(window.get(seq), model.get(seq));
      }
      const oldestFirst = [...model.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
      assert.deepEqual(window.values(), oldestFirst);
    }),
    { numRuns: 300 },
  );
});

test('seq-window: one command held while 100,000 later ones come and go', () => {
  const window = new SeqWindow<number>();
  window.set(1, 1);
  for (let seq = 2; seq <= 100_001; seq++) {
    window.set(seq, seq);
    if (seq >= 10) assert.equal(window.delete(seq - 8), true);
  }
  assert.equal(window.get(1), 1);
  assert.equal(window.size, 1 + 8);
  assert.equal(window.delete(1), true);
  assert.equal(window.get(1), undefined);
  assert.deepEqual(
    window.values(),
    [99_994, 99_995, 99_996, 99_997, 99_998, 99_999, 100_000, 100_001],
  );
});

test('seq-window refuses a seq older than one already set', () => {
  const window = new SeqWindow<number>();
  window.set(10, 10);
  window.delete(10);
  assert.throws(() => window.set(9, 9), /increasing order/);
  assert.equal(window.delete(10), false);
  assert.equal(window.size, 0);
});
