/**
 * submitStatus on a connection the node closes for reading too slowly (4008): every call's
 * handler is told once, a status or a ClientError naming its client seq and the close; none is
 * dropped, none told twice. A new connection of the client id says by its next client seq which
 * of the cut-off calls the engine took; the others, sent again, apply once: account 2 is
 * credited once per call. load-cut-off.test.ts went over to transfer() (its 24-byte results
 * kept up with the throttled proxy), and nothing covered this path. Here the client's own
 * socket stops reading while it goes on submitting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { BourseClient, ClientError, type OnStatus } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { Status } from '../../src/protocol/status.js';
import { readModelAt, setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';

const callsMax = 2_000_000; // a bound: far more than the node's 4 MB of unread results needs
const chunk = 20_000;
const f = { account: 1, target: 2, ref: 1, quantity: 1 };

interface Told {
  error: ClientError | null;
  status: number;
  tag: number;
  sequence: number;
}

/** A handler that keeps what it is told. */
function teller(): { told: Told[]; onStatus: OnStatus } {
  const told: Told[] = [];
  const onStatus: OnStatus = (error, status, tag, sequence) => {
    told.push({ error, status, tag, sequence });
  };
  return { told, onStatus };
}

/** Account 2's available balance of asset 1 (setupCommands'). */
async function credited(url: string): Promise<number> {
  const http = url.replace('ws://', 'http://').replace(/\/$/, '');
  const body = (await (await fetch(`${http}/balances?account=2`)).json()) as {
    balances: { asset: number; available: number }[];
  };
  return body.balances.find((b) => b.asset === 1)?.available ?? 0;
}

/** The SDK's WebSocket of `c`, and its TCP socket (to stop reading from it). */
type Ws = {
  _socket: Socket;
  bufferedAmount: number;
  once(e: 'close', f: (n: number) => void): void;
};
const wsOf = (c: BourseClient): Ws => (c as unknown as { socket: Ws }).socket;
const tcpOf = (c: BourseClient): Socket => wsOf(c)._socket;

/**
 * Stops reading `c`'s socket and submits status calls, a chunk at a time (bounded), each
 * applied (`applied()`: how many) before the next, until the node closes the session.
 */
async function submitTillClosed(
  c: BourseClient,
  gateway: { sessionCount(): number },
  applied: () => Promise<number>,
  onStatus: OnStatus,
): Promise<number> {
  const sessions = gateway.sessionCount();
  tcpOf(c).pause();
  let calls = 0;
  while (calls < callsMax && gateway.sessionCount() === sessions) {
    for (let i = 0; i < chunk; i++) c.submitStatus(CommandKind.Transfer, f, onStatus, calls++);
    // Paced by the node: each chunk applied (its results sent or waiting) before the next.
    const paced = async (): Promise<boolean> =>
      gateway.sessionCount() < sessions || (await applied()) >= calls;
    await until(`${calls} applied, or the session closed`, paced, 30_000);
  }
  assert.ok(gateway.sessionCount() < sessions, `the node closed the session (${calls} calls)`);
  return calls;
}

test('submitStatus cut off by 4008: each call told once, none applied twice', async () => {
  await withNode(async (node, url) => {
    const root = await BourseClient.connect(url, { clientId: 350, inFlightMax: 4_000 });
    await setUp(root);
    const [funded] = await root.deposit({ account: 1, asset: 1, amount: callsMax });
    assert.equal(funded.status, Status.Ok);
    await readModelAt(url, funded.sequence);
    const before = await credited(url);
    // silenceMs 0: the SDK does not drop the quiet connection itself; the node must close it.
    const c = await BourseClient.connect(url, {
      clientId: 351,
      inFlightMax: callsMax,
      silenceMs: 0,
    });
    const first = c.nextClientSeq;
    const { told, onStatus } = teller();
    const gateway = node.gateway!;
    let calls = await submitTillClosed(
      c,
      gateway,
      () => credited(url).then((n) => n - before),
      onStatus,
    );
    // Calls on after the close, which the client has not read yet: the node takes none.
    const late = 1_000;
    for (let i = 0; i < late; i++) c.submitStatus(CommandKind.Transfer, f, onStatus, calls++);
    const closed = new Promise<number>((resolve) => wsOf(c).once('close', resolve));
    tcpOf(c).resume();
    assert.equal(await closed, 4008, 'closed for reading too slowly');
    await until(`${calls} handlers told (${told.length})`, () => told.length >= calls, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // any second telling comes now
    assert.equal(told.length, calls, 'each handler told once');
    const tags = new Uint8Array(calls);
    for (const t of told) tags[t.tag]++;
    assert.ok(
      tags.every((n) => n === 1),
      'each call told once, by its own tag',
    );
    assert.equal(c.reconnects, 0, 'closed by the node, not dropped and resent');

    const cut = told.filter((t) => t.error !== null);
    const answered = told.filter((t) => t.error === null);
    assert.ok(cut.length > 0 && answered.length > 0, `${answered.length} answered`);
    assert.ok(answered.every((t) => t.status === Status.Ok && t.sequence > 0));
    for (const { error, status, tag } of cut) {
      assert.ok(error instanceof ClientError, `tag ${tag}`);
      assert.equal(status, -1);
      assert.equal(error.clientSeq, first + tag, 'its own client seq');
      if (error.mayHaveApplied) assert.match(error.message, /\(4008\): reading too slowly/);
    }
    // A new connection of the client id: below its next seq the engine took them (their
    // outcome is in the journal); from it on never, and those are sent again.
    const again = await BourseClient.connect(url, { clientId: 351, inFlightMax: 100_000 });
    const next = again.nextClientSeq;
    assert.ok(next >= first + answered.length && next <= first + calls, `next seq ${next}`);
    const lost = cut.filter((t) => (t.error as ClientError).clientSeq >= next);
    assert.ok(lost.length >= late, 'the calls after the close were not taken');
    assert.ok(
      cut.every((t) => t.error?.mayHaveApplied || t.error!.clientSeq >= next),
      'not sent: never taken',
    );
    const { told: resent, onStatus: onResent } = teller();
    for (const t of lost) again.submitStatus(CommandKind.Transfer, f, onResent, t.tag);
    await until('the resent told', () => resent.length >= lost.length, 30_000);
    assert.ok(resent.every((t) => t.error === null && t.status === Status.Ok));
    const last = [...answered, ...resent].reduce((m, t) => Math.max(m, t.sequence), 0);
    await readModelAt(url, last);
    const taken = `${cut.length - lost.length} cut off yet taken, ${lost.length} sent again`;
    assert.equal((await credited(url)) - before, calls, `credited once per call: ${taken}`);
    await again.close();
    await root.close();
  });
});
