/**
 * A subscription refused (or ended) with no onError is a process warning (README). It gave the
 * server's reason only: a client with a book feed of many instruments read "subscription
 * refused or ended: no such book" and could not tell which of its subscriptions had stopped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subscriptions, warnRefused } from '../../../src/client/subscriptions.js';
import { StreamKind } from '../../../src/protocol/frames.js';

async function warningsOf(act: () => void): Promise<string[]> {
  const said: string[] = [];
  const listener = (w: Error & { code?: string }): void => {
    if (w.code === 'BOURSE_SUBSCRIPTION_REFUSED') said.push(w.message);
  };
  process.on('warning', listener);
  try {
    act();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a tick
  } finally {
    process.off('warning', listener);
  }
  return said;
}

test("a refusal's warning names the subscription it ends", async () => {
  const subs = new Subscriptions();
  subs.addAsk(1, StreamKind.Depth, 9_999, warnRefused);
  subs.addAsk(2, StreamKind.Trades, 3, warnRefused);
  subs.addAsk(3, StreamKind.Account, 42, warnRefused);
  subs.addAsk(4, StreamKind.TopOfBook, 7, warnRefused);
  subs.addJournal(5, 100, () => {}, warnRefused);
  const said = await warningsOf(() => {
    subs.refuse(1, new Error('no such book'));
    subs.refuse(2, new Error('no such instrument'));
    subs.endAll(new Error('closed (4010)'));
  });
  assert.deepEqual(said, [
    'bourse: subscription refused or ended (the book of instrument 9999): no such book ' +
      '(pass onError to handle it)',
    'bourse: subscription refused or ended (the trades of instrument 3): no such instrument ' +
      '(pass onError to handle it)',
    'bourse: subscription refused or ended (the journal stream from sequence 100): closed ' +
      '(4010) (pass onError to handle it)',
    'bourse: subscription refused or ended (account 42): closed (4010) (pass onError to ' +
      'handle it)',
    'bourse: subscription refused or ended (the top of book of instrument 7): closed (4010) ' +
      '(pass onError to handle it)',
  ]);
});
