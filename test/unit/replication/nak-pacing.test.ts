/**
 * The NAK pacing's schedule (src/replication/nak-pacing.ts) on a clock of its own: when an
 * incomplete message is NAKed, how its retries back off, and each peer's budget per window.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  udpNakDelayMs,
  udpNakPeerMax,
  udpNakRetryMs,
  udpNakRetryMsMax,
  udpReassemblyTimeoutMs,
  udpResendLingerMs,
} from '../../../src/constants.js';
import {
  lingering,
  NakPacer,
  progressed,
  retryWaitMs,
} from '../../../src/replication/nak-pacing.js';
import type { Partial } from '../../../src/replication/transport-queues.js';
import { Rng } from '../../../src/stdx/rng.js';

function partial(from: number, lastAt: number): Partial {
  const chunks = [undefined, Buffer.alloc(1)];
  return { from, start: 1, id: 1, chunks, missing: 1, highest: 1, lastAt, ...unNaked };
}
const unNaked = { nakAt: 0, naks: 0, retryAt: 0 };

/** The times a message that makes no progress from `lastAt` is NAKed until it is dropped. */
function nakTimes(pacer: NakPacer, p: Partial): number[] {
  const times: number[] = [];
  for (let now = p.lastAt; now - p.lastAt <= udpReassemblyTimeoutMs; now += 0.25) {
    if (!pacer.due(p, now) || !pacer.allowed(p.from, now)) continue;
    pacer.sent(p, now);
    times.push(now);
  }
  return times;
}

test('retries wait udpNakRetryMs, doubled per NAK up to the max, plus up to half again', () => {
  assert.equal(retryWaitMs(1, 0.9), udpNakRetryMs, 'the first retry as before');
  assert.equal(retryWaitMs(2, 0), udpNakRetryMs);
  assert.equal(retryWaitMs(3, 0), 2 * udpNakRetryMs);
  assert.equal(retryWaitMs(4, 0.5), 4 * udpNakRetryMs * 1.25);
  assert.equal(retryWaitMs(40, 0), udpNakRetryMsMax, 'capped, however many');
  assert.ok(retryWaitMs(40, 0.999_999) < udpNakRetryMsMax * 1.5);
  assert.throws(() => retryWaitMs(0, 0), /a NAK was sent/);
  assert.throws(() => retryWaitMs(1, 1), /a draw in \[0, 1\)/);
});

test('a message without progress: first NAK after udpNakDelayMs, then a few, seeded', () => {
  const times = nakTimes(new NakPacer(new Rng(5)), partial(3, 100));
  assert.equal(times[0], 100 + udpNakDelayMs, 'the first as fast as before');
  assert.equal(times[1] - times[0], udpNakRetryMs, 'the first retry as before');
  assert.ok(times[2] - times[1] >= udpNakRetryMs && times[2] - times[1] < 1.5 * udpNakRetryMs);
  for (let i = 3; i < times.length; i++) {
    const wait = times[i] - times[i - 1];
    const before = times[i - 1] - times[i - 2];
    assert.ok(wait >= Math.min(udpNakRetryMsMax, before * (2 / 1.5)), `wait ${i} grows`);
  }
  assert.ok(times.length >= 6 && times.length <= 8, `${times.length} NAKs, not ~62`);
  const again = nakTimes(new NakPacer(new Rng(5)), partial(3, 100));
  assert.deepEqual(again, times, 'the same seed, the same schedule');
  assert.notDeepEqual(nakTimes(new NakPacer(new Rng(6)), partial(3, 100)), times);
});

test('progress starts the backoff over: the next NAK waits only the first retry', () => {
  const pacer = new NakPacer(new Rng(1));
  const p = partial(2, 0);
  for (const now of [2, 40, 200]) if (pacer.due(p, now)) pacer.sent(p, now);
  assert.equal(p.naks, 3);
  assert.ok(p.retryAt > 200 + 2 * udpNakRetryMs);
  p.lastAt = 210; // a fragment came
  progressed(p);
  assert.equal(p.naks, 0);
  assert.equal(p.retryAt, 200 + udpNakRetryMs);
  assert.equal(pacer.due(p, 210 + udpNakDelayMs - 0.5), false);
  assert.equal(pacer.due(p, 210 + udpNakDelayMs), true);
});

test('a peer gets udpNakPeerMax NAKs a window; another peer and the next window more', () => {
  const pacer = new NakPacer(new Rng(1));
  const filled: boolean[] = [];
  for (let i = 0; i < 3 * udpNakPeerMax; i++) {
    if (pacer.allowed(3, 10)) filled.push(pacer.sent(partial(3, 0), 10));
  }
  assert.equal(filled.length, udpNakPeerMax);
  assert.deepEqual(filled.indexOf(true), udpNakPeerMax - 1, 'the last one fills the window');
  assert.equal(pacer.allowed(3, 10 + udpNakRetryMs - 0.5), false, 'the same window');
  assert.equal(pacer.allowed(4, 10), true, 'another peer has its own');
  assert.equal(pacer.allowed(3, 10 + udpNakRetryMs), true, 'the next window');
  assert.throws(() => pacer.allowed(0, 10), /a member id/);
});

test('a fragment resent lingers udpResendLingerMs: NAKs for it meanwhile coalesce', () => {
  const resentAt = new Float64Array(3);
  assert.equal(lingering(null, 1, 50), false, 'never resent');
  assert.equal(lingering(resentAt, 1, 50), false);
  resentAt[1] = 50;
  assert.equal(lingering(resentAt, 1, 50 + udpResendLingerMs - 0.5), true);
  assert.equal(lingering(resentAt, 1, 50 + udpResendLingerMs), false);
  assert.equal(lingering(resentAt, 2, 51), false, 'only that fragment');
});
