/**
 * Admission's login timeout runs on a clock that only goes forward: a socket silent for
 * loginTimeoutMs is closed (4001) whatever the wall clock did meanwhile. With Date.now(), a
 * step back (NTP) left every socket opened before it pending until the wall clock caught up
 * (an hour here), and the sockets behind it too; a step forward closed logins under way.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { loginRetryAfterMs, loginTimeoutMs, sessionCountMax } from '../../../src/constants.js';
import { Admission } from '../../../src/gateway/admission.js';
import { LoginFailures } from '../../../src/gateway/login-failures.js';
import type { HttpRequest, HttpResponse, WebSocket } from '../../../src/gateway/uws.js';

const hourMs = 3_600_000;

class FakeSocket {
  closed: number | null = null;
  getRemoteAddressAsText(): ArrayBuffer {
    const text = Buffer.from('10.0.0.7', 'latin1');
    return text.buffer.slice(text.byteOffset, text.byteOffset + text.length);
  }
  end(code: number): void {
    this.closed = code;
  }
}

/** Both clocks as the test sets them: the wall clock steps, the monotonic one moves on. */
function clocks(t: TestContext): { wallMs: number; monoMs: number } {
  const now = { wallMs: Date.now(), monoMs: performance.now() };
  t.mock.method(Date, 'now', () => now.wallMs);
  t.mock.method(performance, 'now', () => now.monoMs);
  return now;
}

function admission(): { gate: Admission<unknown>; sweep: () => void; failures: LoginFailures } {
  const failures = new LoginFailures(() => {}, 60_000);
  const gate = new Admission<unknown>(() => failures);
  const sweep = (): void => (gate as unknown as { sweep(): void }).sweep();
  return { gate, sweep, failures };
}

function open(gate: Admission<unknown>): FakeSocket {
  const ws = new FakeSocket();
  gate.opened(ws as unknown as WebSocket<unknown>);
  return ws;
}

test('admission: a step of the wall clock back times out silent sockets all the same', (t) => {
  const now = clocks(t);
  const { gate, sweep, failures } = admission();
  try {
    const before = open(gate);
    now.wallMs -= hourMs; // NTP steps the clock back an hour
    now.monoMs += 1_000;
    const after = open(gate);
    now.wallMs += loginTimeoutMs + 1_000;
    now.monoMs += loginTimeoutMs + 1_000;
    sweep();
    assert.equal(before.closed, 4001, 'silent past loginTimeoutMs');
    assert.equal(after.closed, 4001, 'and the one opened after the step');
    assert.equal(gate.pendingCount, 0);
    assert.equal(failures.total('timeout'), 2);
  } finally {
    gate.stop();
    failures.stop();
  }
});

test('admission: a step of the wall clock forward times out no login under way', (t) => {
  const now = clocks(t);
  const { gate, sweep, failures } = admission();
  try {
    const socket = open(gate);
    now.wallMs += 2 * hourMs;
    now.monoMs += 1_000;
    sweep();
    assert.equal(socket.closed, null, 'open for a second only');
    assert.equal(gate.pendingCount, 1);
    now.monoMs += loginTimeoutMs;
    sweep();
    assert.equal(socket.closed, 4001);
  } finally {
    gate.stop();
    failures.stop();
  }
});

/** An upgrade's refusal at `loggedIn` sessions open (none from a web page: no Origin). */
function refusalAt(gate: Admission<unknown>, loggedIn: number) {
  const res = new FakeSocket() as unknown as HttpResponse;
  const req = { getHeader: () => '' } as unknown as HttpRequest;
  return gate.upgradeRefusal(loggedIn, res, req, { keys: null });
}

/**
 * A node full at sessionCountMax refused with no wait: the SDK gave up after reconnectWaitMs,
 * and the refusal held no cancel-on-disconnect grace open (cancel-on-disconnect-marks.test.ts).
 * A place frees once any session closes: it asks the client back as a shed login does, and
 * counts among the shed, so that a full node's wait grows as a storm's does.
 */
test('admission: a node full at sessionCountMax says when to come back, as a shed login', () => {
  const { gate, sweep, failures } = admission();
  try {
    assert.equal(refusalAt(gate, sessionCountMax - 1), null, 'a place left');
    assert.deepEqual(refusalAt(gate, sessionCountMax), {
      status: '503 Service Unavailable',
      error: 'too many sessions',
      retryAfterMs: loginRetryAfterMs,
      full: true,
    });
    for (let i = 0; i < 9; i++) refusalAt(gate, sessionCountMax);
    sweep(); // 10 shed, 1 taken this interval
    const next = refusalAt(gate, sessionCountMax)?.retryAfterMs ?? 0;
    assert.ok(next > loginRetryAfterMs, 'the wait grows while the node is full');
  } finally {
    gate.stop();
    failures.stop();
  }
});

/**
 * A refusal is `full` (a hold of the cancel-on-disconnect grace with no client back is not
 * idle: cancel-on-disconnect.ts) only when logged-in sessions fill the node: sockets that never
 * logged in, which a flood of upgrades opens with no key, do not make it so.
 */
test('admission: a node full only with logins under way is not full of sessions', () => {
  const { gate, failures } = admission();
  try {
    open(gate); // a socket that has not logged in takes the last place
    const refused = refusalAt(gate, sessionCountMax - 1);
    assert.equal(refused?.error, 'too many sessions');
    assert.equal(refused?.full, false);
    assert.equal(refusalAt(gate, sessionCountMax)?.full, true);
  } finally {
    gate.stop();
    failures.stop();
  }
});
