/**
 * A client id used by another connection while this one was down: the SDK must not resend
 * under seqs the server has since taken from the other one (a resend would be answered with
 * the other connection's outcomes, as repeats reading Ok, and never applied), and a
 * connection the server closes for good tells of each command whether it had been sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, ClientError, EventKind } from '../../src/client/client.js';
import { Status } from '../../src/protocol/status.js';
import { FreezableProxy } from '../harness/freezable-proxy.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';
import { readAt, sequenceOf } from '../harness/read-model.js';

const move = { account: 1, target: 2, ref: 1, quantity: 1 };

/**
 * Account `account`'s balance of asset 1 as the read model has it once at `sequence` or past:
 * it applies events a few ms after their results (PROTOCOL.md: compare sequences).
 */
async function balance(url: string, account: number, sequence: number): Promise<number> {
  const base = url.replace('ws://', 'http://').replace(/\/$/, '');
  const read = await readAt(`${base}/balances?account=${account}`, sequence);
  assert.ok(sequenceOf(read) >= sequence, `timed out: the read model at ${sequence}`);
  const body = read.body as { balances: { asset: number; available: number }[] };
  return body.balances.find((b) => b.asset === 1)?.available ?? 0;
}

test('a client id used elsewhere while the SDK was down: nothing resent, calls told', async () => {
  await withNode(async (_node, url) => {
    const nodePort = Number(new URL(url).port);
    let proxy = await FreezableProxy.start(nodePort);
    const reopened: string[] = [];
    const a = await BourseClient.connect(proxy.url, {
      clientId: 71,
      reconnectAttempts: 200,
      onReconnect: (at) => reopened.push(at),
    });
    await setUp(a);
    const [first] = await a.transfer(move);
    assert.equal(first.status, Status.Ok);
    const proxyPort = proxy.port;
    proxy.close(); // A's connection drops, and it cannot reconnect for now
    await until('A sees its connection drop', () => a.lastDrop !== '');
    const lost = a.transfer(move); // staged while down: never sent
    let b: BourseClient | null = null;
    await until('the server lets client id 71 in again', async () => {
      b = await BourseClient.connect(url, { clientId: 71 }).catch(() => null);
      return b !== null;
    });
    const other = b as unknown as BourseClient;
    let last = first.sequence;
    for (let i = 0; i < 3; i++) {
      const [done] = await other.transfer({ ...move, target: 3 });
      assert.equal(done.status, Status.Ok);
      last = done.sequence;
    }
    await other.close();
    const before = await balance(url, 2, last);
    proxy = await FreezableProxy.start(nodePort, proxyPort); // A finds the node again
    try {
      const error = await lost.then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(error instanceof ClientError, `rejected, not answered as a repeat: ${error}`);
      assert.match(error.message, /used by another connection .*: never sent, not applied/);
      assert.deepEqual(reopened, [proxy.url], 'onReconnect heard the session open again');
      const [after] = await a.transfer(move); // from the server's next seq: a new command
      assert.deepEqual([after.kind, after.status], [EventKind.Transferred, Status.Ok]);
      assert.equal(
        await balance(url, 2, after.sequence),
        before + 1,
        'applied once, the lost one never',
      );
    } finally {
      await a.close();
      proxy.close();
    }
  });
});

test('a session closed for good says of each command whether it had been sent', async () => {
  await withNode(async (node, url) => {
    const a = await BourseClient.connect(url, { clientId: 72, inFlightMax: 1 });
    await setUp(a);
    const calls = Array.from({ length: 3 }, () => a.transfer(move));
    node.gateway?.close(4010, 'API key revoked'); // as a revoked key's session is closed
    const outcomes = await Promise.allSettled(calls);
    const reasons = outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'answered'));
    for (const reason of reasons) {
      if (reason === 'answered') continue;
      assert.match(reason, /connection closed \(4010\): API key revoked: /);
      assert.match(reason, /sent, not answered: it may have been applied|not sent, not applied/);
    }
    assert.ok(
      reasons.some((r) => /not sent, not applied/.test(r)),
      reasons.join('\n'),
    );
  });
});

/**
 * A connection cut without the node hearing of it (the client's network gone, a proxy frozen:
 * no FIN) held its client id until the idle timeout, 120 s: the SDK, back by another address,
 * was refused 4007 at every try until reconnectWaitMs ran out, and failed what was pending. A
 * login of a held id now pings the holder, and one silent for sessionHolderSilenceMs since is
 * replaced.
 */
test('a session cut off unseen gives its client id to the next login, once silent', async () => {
  await withNode(async (_node, url) => {
    const proxy = await FreezableProxy.start(Number(new URL(url).port));
    const options = { clientId: 73, members: [proxy.url, url], silenceMs: 500 };
    const a = await BourseClient.connect(proxy.url, { ...options, reconnectWaitMs: 8_000 });
    try {
      const before = await balance(url, 2, await setUp(a));
      proxy.freeze(); // the node keeps A's session: its TCP connection is open and silent
      const [head] = await a.transfer(move); // dropped for silence, sent again to `url`
      assert.deepEqual([head.kind, head.status], [EventKind.Transferred, Status.Ok]);
      assert.equal(a.reconnects, 1);
      assert.equal(await balance(url, 2, head.sequence), before + 1, 'applied once');
    } finally {
      await a.close();
      proxy.close();
    }
  });
});

test('a session that answers keeps its client id: another login is refused 4007', async () => {
  await withNode(async (_node, url) => {
    const a = await BourseClient.connect(url, { clientId: 74 });
    try {
      await setUp(a);
      const other = await BourseClient.connect(url, { clientId: 74, connectWaitMs: 3_000 }).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(other instanceof ClientError, String(other));
      assert.equal(other.code, 4007);
      assert.match(other.message, /client id 74 is connected already/);
      const [head] = await a.transfer(move); // pinged and answering: still A's
      assert.equal(head.status, Status.Ok);
      assert.equal(a.reconnects, 0);
    } finally {
      await a.close();
    }
  });
});

/**
 * A process restarted at once, or a client whose last connection was cut unseen, logs in while
 * its client id's old session is still open: connect failed at once with ClientError 4007, which
 * ended a caller that did not catch it. Waiting mends it (the node gives the id up once that
 * session is seen gone, or silent after a ping): connect tries again for connectWaitMs.
 */
test('connect, the old session of its client id still open: it waits for its end', async () => {
  await withNode(async (_node, url) => {
    const proxy = await FreezableProxy.start(Number(new URL(url).port));
    const old = await BourseClient.connect(proxy.url, { clientId: 75, silenceMs: 0 });
    let again: BourseClient | null = null;
    try {
      await setUp(old);
      proxy.freeze(); // the old process is gone, unseen: its session stays open, silent
      again = await BourseClient.connect(url, { clientId: 75 });
      const [head] = await again.transfer(move);
      assert.deepEqual([head.kind, head.status], [EventKind.Transferred, Status.Ok]);
    } finally {
      await again?.close();
      proxy.close();
      await old.close();
    }
  });
});
