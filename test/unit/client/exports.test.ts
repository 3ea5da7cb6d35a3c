/**
 * What a client developer can import from the package (`bourse`, resolved through
 * package.json's exports as an application would): the values needed to read events and
 * errors without copying numbers from the docs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

type Sdk = typeof import('../../../src/client/client.js');
const packageName = 'bourse'; // a variable: tsc must not resolve the package while building it

test('the package exports the enums and helpers that reading events and errors needs', async () => {
  const sdk = (await import(packageName)) as Sdk;
  // A maker reads the taker's side of a Trade from its flags; a journal reader finds each
  // command's first event by Head.
  assert.equal(sdk.EventFlag.Head, 1);
  assert.equal(sdk.EventFlag.Sell, 4);
  assert.equal(sdk.EventFlag.PriorityKept, 32);
  assert.equal(sdk.TimeInForce.Ioc, 1);
  // submit and submitBatch take the protocol's fields: a sell order's flags need Sell.
  assert.equal(sdk.CommandFlag.Sell, 2);
  assert.equal(sdk.CommandFlag.PostOnly, 8);
  assert.equal(sdk.SelfTradePrevention.CancelTaker, 1);
  assert.equal(sdk.commandKindName(sdk.CommandKind.Transfer), 'Transfer');
  const line = sdk.formatEvent({ ...zeroEvent(), sequence: 7, kind: sdk.EventKind.Transferred });
  assert.match(line, /^#7 .* Transferred Ok/);
  // ClientError codes by name: the protocol's Error frame codes and close codes.
  assert.equal(sdk.ClientErrorCode.Busy, 1);
  assert.equal(sdk.ClientErrorCode.Forbidden, 3);
  assert.equal(sdk.ClientErrorCode.ChainOpen, 6);
  assert.equal(sdk.ClientErrorCode.ConnectionLost, 1006);
  assert.equal(sdk.ClientErrorCode.ClientIdInUse, 4007);
  assert.equal(sdk.ClientErrorCode.Unauthorized, 4010);
  // The SDK's own refusal past queueMax: none of the server's codes.
  assert.equal(sdk.ClientErrorCode.QueueFull, 5000);
});

// A maker reading its account stream tells the node's cancels on disconnect from its own by
// their client id, which PROTOCOL.md names disconnectClientId: the SDK did not export it.
test("the package exports the node's own client ids", async () => {
  const sdk = (await import(packageName)) as Sdk;
  assert.equal(sdk.disconnectClientId, 4294967293);
  assert.equal(sdk.timerClientId, 4294967294);
  assert.equal(sdk.reservedClientId, 4294967295);
});

function zeroEvent(): import('../../../src/client/client.js').EventRecord {
  const names = ['sequence', 'timestamp', 'clientSeq', 'clientId', 'kind', 'commandKind'] as const;
  const more = ['status', 'flags', 'tif', 'stp', 'ref', 'account', 'counterparty', 'id'] as const;
  const rest = ['otherId', 'price', 'quantity', 'amount', 'fee', 'counterpartyFee'] as const;
  const all = [...names, ...more, ...rest, 'release', 'aux'] as const;
  return Object.fromEntries(all.map((n) => [n, 0])) as never;
}
