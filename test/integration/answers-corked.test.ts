import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNode } from '../harness/gateway-node.js';
import { BourseClient } from '../../src/client/client.js';
import { CommandKind } from '../../src/protocol/command-layout.js';
import { FrameType } from '../../src/protocol/frames.js';

/** The gateway's sessions by client id (private: read here to watch one socket's sends). */
type Watched = { sessions: Map<number, { send: Function; cork: Function }> };

// A journal commit's answers to one session used to go out one uWS send at a time from the
// publisher's callback, outside any uWS handler: a write (system call) per frame. They go out
// corked now (gateway/delivery-runs.ts): every answer frame is sent inside the session's cork.
test("a session's answers are sent inside its cork, not one write a frame", async () => {
  await withNode(async (node, url) => {
    const client = await BourseClient.connect(url, { clientId: 41 });
    const sessions = (node.gateway as unknown as Watched).sessions;
    const ws = sessions.get(41);
    assert.ok(ws !== undefined, 'the session is open');
    const sends: string[] = [];
    let corked = false;
    const send = ws.send;
    const cork = ws.cork;
    ws.send = function (this: unknown, ...args: unknown[]) {
      const bytes = args[0] as Uint8Array;
      if (bytes[0] === FrameType.Events) sends.push(corked ? 'corked' : 'not corked');
      return send.apply(this, args);
    };
    ws.cork = function (this: unknown, cb: () => void) {
      return cork.call(this, () => {
        corked = true;
        try {
          cb();
        } finally {
          corked = false;
        }
      });
    };
    const all: Promise<unknown>[] = [client.submit(CommandKind.AddAsset, { ref: 1, aux: 2 })];
    for (let a = 1; a <= 300; a++) {
      all.push(client.submit(CommandKind.CreateAccount, { account: a }));
    }
    await Promise.all(all);
    assert.ok(sends.length > 0, 'answers came as Events frames');
    assert.deepEqual([...new Set(sends)], ['corked']);
    await client.close();
  });
});
