import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admission } from '../../../src/client/admission.js';

/** An Admission over a counter of commands in flight, as the client keeps it. */
function admission(inFlightMax: number) {
  const state = { inFlight: 0, closed: null as Error | null, sent: [] as number[] };
  const a = new Admission(
    () => state.inFlight,
    inFlightMax,
    10,
    () => state.closed,
  );
  const send = (n: number) => () => {
    state.inFlight++;
    state.sent.push(n);
    return Promise.resolve(n);
  };
  return { a, state, send };
}

// client.submit goes straight on when fits(1) (no closure for admit): fits must say exactly
// when admit would send at once, or a command would pass one waiting before it.
test('fits(count) is true exactly when admit would send at once', async () => {
  const { a, state, send } = admission(2);
  assert.equal(a.fits(1), true);
  assert.equal(a.fits(3), false, 'more than inFlightMax');
  void a.admit(1, send(1));
  void a.admit(1, send(2));
  assert.deepEqual(state.sent, [1, 2], 'both went at once');
  assert.equal(a.fits(1), false, 'no room in flight');
  const third = a.admit(1, send(3));
  assert.deepEqual(state.sent, [1, 2], 'the third waits');
  state.inFlight = 0; // answered, not drained yet
  assert.equal(a.fits(1), false, 'room, but one waits first: call order');
  a.drain();
  assert.equal(await third, 3);
  assert.deepEqual(state.sent, [1, 2, 3]);
  assert.equal(a.fits(1), true, 'room, none waiting');
  state.closed = new Error('closed');
  assert.equal(a.fits(1), false, 'a closed session sends nothing');
});
