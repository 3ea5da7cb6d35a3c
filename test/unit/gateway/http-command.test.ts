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
    // The SDK's call names, which its field names come with.
    ['postPending', CommandKind.TransferPost],
    ['void_pending', CommandKind.TransferVoid],
    ['cancel', CommandKind.CancelOrder],
    ['amend', CommandKind.AmendOrder],
  ] as const) {
    const fields = parse({ kind: name, clientId: 1, clientSeq: 1 });
    assert.equal(typeof fields, 'object', name);
    assert.equal((fields as { kind: number }).kind, kind, name);
  }
  const byNumber = parse({ kind: CommandKind.Deposit, clientId: 1, clientSeq: 1 });
  assert.equal((byNumber as { kind: number }).kind, CommandKind.Deposit);
});

test('a narrow field past its bytes is refused, not written into the next field', () => {
  const order = { kind: 'PlaceOrder', clientId: 1, clientSeq: 1, account: 1, quantity: 1 };
  assert.equal(parse({ ...order, flags: 0x102 }), 'flags: 0 to 255');
  assert.equal(parse({ ...order, tif: 256 }), 'tif: 0 to 255');
  assert.equal(parse({ ...order, stp: -1 }), 'stp: 0 to 255');
  assert.equal(parse({ ...order, makerFeeBps: 65_536 }), 'makerFeeBps: 0 to 65535');
  assert.equal(parse({ ...order, ref: 2 ** 32 }), 'ref: 0 to 4294967295');
  // 254: every flag bit but Linked (one command over HTTP never closes a chain).
  const edge = { ...order, flags: 254, tif: 255, stp: 255, takerFeeBps: 65_535, ref: 2 ** 32 - 1 };
  assert.equal(typeof parse(edge), 'object', 'the largest values fit');
  assert.match(parse({ ...order, flags: 255 }) as string, /^linked: a chain of linked commands/);
});

test('a field the protocol does not have is refused, not dropped (a buy, else)', () => {
  const order = { kind: 'PlaceOrder', clientId: 1, clientSeq: 1, account: 1, quantity: 1 };
  // Read as the SDK's named fields, which then lack the instrument and the price.
  assert.match(parse({ ...order, side: 'sell' }) as string, /placeOrder: 'instrument' is missing/);
  assert.match(parse({ ...order, side: 'sell', ref: 1 }) as string, /'ref' .* fields mixed/);
  assert.match(parse({ ...order, sell: true }) as string, /placeOrder: 'sell' is not one of/);
  assert.equal(typeof parse({ ...order, ref: 1, price: 5, flags: 2 }), 'object');
  const tick = { kind: 'Tick', clientId: 1, clientSeq: 1 };
  assert.match(parse({ ...tick, side: 'sell' }) as string, /^"side": not a command field \(/);
});

test("a POSTed command may use the SDK's named fields, mapped to the protocol's", () => {
  const id = { clientId: 4, clientSeq: 9 };
  const transfer = { ...id, kind: 'transfer', from: 1, to: 2, asset: 3, amount: 50 };
  assert.deepEqual(parse(transfer), {
    ...id,
    kind: CommandKind.Transfer,
    account: 1,
    target: 2,
    ref: 3,
    quantity: 50,
    flags: 0,
  });
  const order = { ...id, kind: 'place_order', account: 1, instrument: 2, quantity: 100 };
  const sell = parse({ ...order, side: 'sell', price: 7, tif: 'FOK' });
  assert.deepEqual(sell, {
    ...id,
    kind: CommandKind.PlaceOrder,
    account: 1,
    ref: 2,
    quantity: 100,
    price: 7,
    flags: 2, // Sell
    tif: 2, // Fok
    stp: 0,
  });
  const cancelAll = { ...id, kind: 'cancel-all', account: 1 };
  assert.deepEqual(parse({ ...cancelAll, instrument: 2, next: 9 }), {
    ...id,
    kind: CommandKind.CancelAll,
    account: 1,
    ref: 2,
    target: 9,
    flags: 0,
  });
  assert.deepEqual(parse({ ...cancelAll, kind: 'CancelAll', ref: 0 }), {
    ...id,
    kind: CommandKind.CancelAll,
    account: 1,
    ref: 0,
  });
  assert.match(parse({ ...transfer, amount: 1.5 }) as string, /^amount: 1\.5 is not a whole/);
  assert.equal(parse({ ...transfer, clientId: 0 }), 'clientId: 1 to 4294967292');
  // The last 32-bit id is the cluster's own (its term-opening Ticks): never a client's.
  assert.equal(parse({ ...transfer, clientId: 2 ** 32 - 1 }), 'clientId: 1 to 4294967292');
  // The one before is the node's expiry timer's (its Ticks): never a client's either.
  assert.equal(parse({ ...transfer, clientId: 2 ** 32 - 2 }), 'clientId: 1 to 4294967292');
  // And the one before that the gateway's cancels on disconnect (CancelAll rounds).
  assert.equal(parse({ ...transfer, clientId: 2 ** 32 - 3 }), 'clientId: 1 to 4294967292');
});

test('an unknown kind is refused with the kinds there are and what was sent', () => {
  for (const kind of ['transfre', 99, 0, -1, null, undefined, 'x'.repeat(500)]) {
    const why = parse({ kind, clientId: 1, clientSeq: 1 });
    assert.equal(typeof why, 'string', String(kind));
    assert.match(why as string, /^kind: one of CreateAccount, .*, SetCancelOnDisconnect, or its/);
    assert.match(why as string, /\(1 to 18\)/);
    assert.ok((why as string).length < 400, 'a long value is cut short');
  }
  assert.match(parse({ kind: 'transfre', clientId: 1, clientSeq: 1 }) as string, /got "transfre"$/);
  assert.match(parse({ clientId: 1, clientSeq: 1 }) as string, /got nothing$/);
});

test('a body that is not one command object says what it is', () => {
  assert.equal(parseCommand(Buffer.from('{bad')), 'the body is not JSON');
  assert.equal(parse(null), 'the body is not a JSON object');
  assert.equal(parse(7), 'the body is not a JSON object');
  const list = [{ kind: 'AddAsset', clientId: 1, clientSeq: 1, ref: 1, aux: 2 }];
  assert.equal(parse(list), 'the body is one command (a JSON object), not a list');
});

test('a number JSON.parse would round is refused as written, not taken as another', () => {
  const raw = (text: string): ReturnType<typeof parseCommand> => parseCommand(Buffer.from(text));
  const head = '{"kind":"transfer","clientId":1,"clientSeq":1,"from":1,"to":2,"asset":1,';
  // Both were accepted as 100 and refused quoting 9007199254740992, a number never sent.
  const fraction = raw(`${head}"amount":100.0000000000000001}`);
  assert.match(fraction as string, /^amount: 100\.0000000000000001 is not a whole number/);
  const big = raw(`${head}"amount":9007199254740993}`);
  assert.match(big as string, /^amount: 9007199254740993 is not a whole number/);
  assert.match(raw(`${head}"amount":1e2}`) as string, /^amount: 1e2 is not/);
  assert.match(raw(`${head}"amount":-9007199254740992}`) as string, /-9007199254740992 is not/);
  assert.match(raw(`${head}"amount":100.0}`) as string, /^amount: 100\.0 is not/);
  // The largest safe integers pass; digits, dots and quotes inside strings are no numbers.
  const max = raw(`${head}"amount":9007199254740991}`);
  assert.equal((max as { quantity: number }).quantity, 9007199254740991);
  const quoted = raw(`{"kind":"tr\\\"1.5e9\\\\","clientId":1,"clientSeq":1}`);
  assert.match(quoted as string, /^kind: one of/, 'the kind is refused, not a number in it');
  const spaced = raw(`{ "clientSeq" : 1.25 , "kind": "deposit", "clientId": 1 }`);
  assert.match(spaced as string, /^clientSeq: 1\.25 is not/);
});

/**
 * A hostile-input audit: `__proto__` set the arguments' prototype, and the fields were read
 * through it past every check (a Transfer of 7); a key given twice ran the last (a Deposit).
 */
test('__proto__ and other prototype names are refused as field names, at any depth', () => {
  const transfer = '"kind":"Transfer","clientId":1,"clientSeq":1,"from":1,"to":2,"asset":1';
  const raw = (text: string): ReturnType<typeof parseCommand> => parseCommand(Buffer.from(text));
  assert.equal(raw(`{${transfer},"__proto__":{"amount":7}}`), '"__proto__": not a field name');
  assert.equal(raw(`{${transfer},"amount":1,"constructor":1}`), '"constructor": not a field name');
  assert.equal(
    raw(`{${transfer},"amount":1,"x":{"prototype":1}}`),
    '"prototype": not a field name',
  );
  assert.equal(
    raw(`{${transfer},"\\u005f_proto__":{"amount":7}}`),
    '"__proto__": not a field name',
  );
  assert.equal(typeof raw(`{${transfer},"amount":7}`), 'object', 'the same without it');
});

test('a key given twice is refused (JSON.parse kept the last)', () => {
  const rest = '"clientId":1,"clientSeq":1,"account":1,"asset":1,"amount":5';
  const raw = (text: string): ReturnType<typeof parseCommand> => parseCommand(Buffer.from(text));
  assert.equal(raw(`{"kind":"Transfer","kind":"Deposit",${rest}}`), '"kind": given twice');
  assert.equal(raw(`{"kind":"Deposit",${rest},"amount":6}`), '"amount": given twice');
  assert.equal(raw(`{"kind":"Deposit",${rest},"\\u0061mount":6}`), '"amount": given twice');
  // The same name in another object, or as a string value, is no repeat.
  const fine = `{"kind":"Deposit",${rest},"x":{"kind":"a"}}`;
  assert.notEqual(raw(fine), '"kind": given twice');
  assert.equal(typeof raw(`{"kind":"Deposit",${rest}}`), 'object');
  assert.equal(typeof raw(`{"kind":"Deposit",${rest.replace('1,', '1 , ')}}`), 'object');
});
