import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../../src/gateway/http.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';

const parse = (o: unknown): ReturnType<typeof parseCommand> =>
  parseCommand(Buffer.from(JSON.stringify(o)));

test('a POSTed command names its kind as the protocol spells it, or as people write it', () => {
  for (const [name, kind] of [
    ['Transfer', CommandKind.Transfer],
    ['transfer', CommandKind.Transfer],
    ['PlaceOrder', CommandKind.PlaceOrder],
    ['place_order', CommandKind.PlaceOrder],
    ['place-order', CommandKind.PlaceOrder],
    ['TRANSFER_PENDING', CommandKind.TransferPending],
  ] as const) {
    const fields = parse({ kind: name, clientId: 1, clientSeq: 1 });
    assert.equal(typeof fields, 'object', name);
    assert.equal((fields as { kind: number }).kind, kind, name);
  }
  const byNumber = parse({ kind: CommandKind.Deposit, clientId: 1, clientSeq: 1 });
  assert.equal((byNumber as { kind: number }).kind, CommandKind.Deposit);
});

test('an unknown kind is refused with the kinds there are and what was sent', () => {
  for (const kind of ['transfre', 99, 0, 1.5, null, undefined, 'x'.repeat(500)]) {
    const why = parse({ kind, clientId: 1, clientSeq: 1 });
    assert.equal(typeof why, 'string', String(kind));
    assert.match(why as string, /^kind: one of CreateAccount, AddAsset, .*Tick, or its number/);
    assert.match(why as string, /\(1 to 15\)/);
    assert.ok((why as string).length < 400, 'a long value is cut short');
  }
  assert.match(parse({ kind: 'transfre', clientId: 1, clientSeq: 1 }) as string, /got "transfre"$/);
  assert.match(parse({ clientId: 1, clientSeq: 1 }) as string, /got nothing$/);
});
