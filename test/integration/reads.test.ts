/**
 * Reads of the node's state against a real node: HTTP balances, orders and books from the read
 * model (durable state, with the sequence it is consistent at), their authorisation, and the
 * conflated depth and top-of-book streams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BourseClient, type BookView } from '../../src/client/client.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { CommandFlag } from '../../src/protocol/command-layout.js';
import { Status } from '../../src/protocol/status.js';
import { isoTimeUs } from '../../src/protocol/time-us.js';
import { keysFile, setUp, withNode } from '../harness/gateway-node.js';
import { found } from '../harness/wait.js';
import { readAt } from '../harness/read-model.js';
import { readAtWaitsPerAddressMax } from '../../src/constants.js';

type Json = Record<string, unknown> & { sequence: number };

function httpBase(url: string): string {
  return url.replace('ws://', 'http://').replace(/\/$/, '');
}

async function get(url: string, token?: string): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> =
    token === undefined ? {} : { authorization: `Bearer ${token}` };
  const r = await fetch(url, { headers });
  return { status: r.status, body: (await r.json()) as Json };
}

/** GETs `url` once the read model has reached `sequence` (5 s at most): readAt, then 200. */
async function getAt(url: string, sequence: number, token?: string): Promise<Json> {
  const headers: Record<string, string> =
    token === undefined ? {} : { authorization: `Bearer ${token}` };
  const { status, body } = await readAt(url, sequence, { headers }, 5_000);
  assert.equal(status, 200, JSON.stringify(body));
  return body as Json;
}

/** Waits (5 s at most) for `find` to give a value. */
function waitFor<T>(what: string, find: () => T | undefined): Promise<T> {
  return found(what, find, 5_000);
}

test('HTTP reads: balances, open orders and a book, at the durable sequence named', async () => {
  await withNode(async (_node, url) => {
    const base = httpBase(url);
    const client = await BourseClient.connect(url, { clientId: 131 });
    await setUp(client);
    const sell = { account: 1, ref: 2, price: 100, quantity: 5, flags: CommandFlag.Sell };
    const [accepted] = await client.placeOrder(sell);
    assert.equal(accepted.status, Status.Ok);
    await client.placeOrder({ account: 2, ref: 2, price: 90, quantity: 7 });
    const [last] = await client.placeOrder({ ...sell, price: 101, quantity: 3 });

    const balances = await getAt(`${base}/balances?account=1`, last.sequence);
    assert.ok(balances.sequence >= last.sequence);
    const asset3 = (balances.balances as { asset: number; available: number; held: number }[]).find(
      (b) => b.asset === 3,
    );
    assert.deepEqual(
      asset3,
      { account: 1, asset: 3, available: 492, held: 8 },
      'a sell holds base',
    );

    const orders = (await getAt(`${base}/orders?account=1`, last.sequence)).orders as {
      price: number;
      open: number;
      side: string;
    }[];
    assert.deepEqual(
      orders.map((o) => [o.side, o.price, o.open]),
      [
        ['sell', 100, 5],
        ['sell', 101, 3],
      ],
    );

    const book = await getAt(`${base}/book?instrument=2&depth=1`, last.sequence);
    assert.deepEqual(book.bids, [{ price: 90, quantity: 7, orders: 1 }]);
    assert.deepEqual(book.asks, [{ price: 100, quantity: 5, orders: 1 }], 'depth 1: best only');
    assert.equal(book.halted, false);
    const [halt] = await client.haltInstrument({ instrument: 2 });
    const halted = await getAt(`${base}/book?instrument=2`, halt.sequence);
    assert.equal(halted.halted, true, 'a halted book says so');
    assert.equal((halted.bids as unknown[]).length, 1, 'and keeps its orders');
    await client.close();

    for (const [path, status] of [
      ['/balances?account=999', 404],
      ['/balances?account=x', 400],
      ['/orders?account=-1', 400],
      ['/book?instrument=200', 404], // in range (1 to 255), never added
      ['/book?instrument=255', 404],
      ['/book?instrument=256', 400], // past the configured ids: it was 404
      ['/book?instrument=0', 400],
      ['/book?instrument=2&depth=0', 400],
      ['/book?instrument=2&depth=100000', 400],
      ['/book', 400],
      // Decimal digits only: Number() read '1e3' as account 1000, '0x2' as 2, '' as 0.
      ['/balances?account=1e3', 400],
      ['/orders?account=0x2', 400],
      ['/balances?account=', 400],
      ['/book?instrument=2&depth=1e1', 400],
      // uWS decoded a malformed escape to digits: %ZZ read account 3, %:1 account 1.
      ['/balances?account=%ZZ', 400],
      ['/balances?account=%:1', 400],
      ['/orders?account=1%', 400],
      ['/book?instrument=%2', 400],
    ] as const) {
      const r = await get(`${base}${path}`);
      assert.equal(r.status, status, path);
      assert.equal(typeof r.body.error, 'string', `${path} says why`);
    }
    const past = await get(`${base}/book?instrument=256`);
    assert.equal(past.body.error, 'instrument: an instrument id from 1 to 255');
    const garbled = await get(`${base}/balances?x=1&account=%ZZ`);
    assert.equal(garbled.body.error, 'account: a malformed percent-escape (% and two hex digits)');
    const escaped = await get(`${base}/balances?account=%31`);
    assert.equal(escaped.body.account, 1, 'a well-formed escape is read');
    // A parameter twice was read as its first (account 1), on every GET route: refused now.
    for (const path of [
      '/balances?account=1&account=2',
      '/orders?account=2&at=1&account=1',
      '/book?instrument=2&depth=1&depth=2',
      '/events?from=1&from=2',
      '/health?x=1&x=1',
      '/balances?account=1&acc%6Funt=2',
    ]) {
      const r = await get(`${base}${path}`);
      assert.equal(r.status, 400, path);
      assert.match(r.body.error as string, /^(account|depth|from|x|acc%6Funt): given twice$/, path);
    }
  });
});

// GET /book needs no key: one address asking a sequence far ahead held all 1,000 waits, 5 s
// each, and everyone else's reads at a sequence were refused READ_BUSY. Now past its own max.
test('one address holds at most readAtWaitsPerAddressMax reads waiting for an at', async () => {
  await withNode(async (_node, url) => {
    const far = `${httpBase(url)}/book?instrument=2&at=${2 ** 53 - 1}`;
    const stop = new AbortController();
    const refused: Json[] = [];
    const asked = Array.from({ length: readAtWaitsPerAddressMax + 3 }, () =>
      fetch(far, { signal: stop.signal }).then(
        async (r) => void (r.status === 503 && refused.push((await r.json()) as Json)),
        () => {}, // aborted below
      ),
    );
    await waitFor('the reads past the max refused', () => (refused.length >= 3 ? 1 : undefined));
    stop.abort();
    await Promise.all(asked);
    assert.equal(refused.length, 3, 'the others wait');
    for (const body of refused) {
      assert.equal(body.code, 'READ_BUSY');
      assert.match(body.error as string, /reads from your address wait for a sequence already/);
    }
  });
});

/** The answer cell of PROTOCOL.md's HTTP table row for `request` (as the row begins). */
function documentedAnswer(request: string): string {
  const doc = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');
  const row = doc.split('\n').find((line) => line.startsWith(`| \`${request}`));
  assert.ok(row !== undefined, `PROTOCOL.md's HTTP table has ${request}`);
  return row.split('|')[2];
}

/** The keys of `body` and of the first item of each of its lists, as `path.key`. */
function keysOf(body: Record<string, unknown>, path = ''): string[] {
  const keys: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    keys.push(`${path}${key}`);
    const first: unknown = Array.isArray(value) ? value[0] : undefined;
    if (typeof first === 'object' && first !== null) {
      keys.push(...keysOf(first as Record<string, unknown>, `${path}${key}[].`));
    }
  }
  return keys;
}

// A client reads these answers from the table alone: GET /orders named none of its fields
// (a bot looked for `quantity`; it is `open`), nor GET /book those of its levels.
test("PROTOCOL.md's HTTP table names every field of the reads' answers", async () => {
  await withNode(async (_node, url) => {
    const base = httpBase(url);
    const client = await BourseClient.connect(url, { clientId: 132 });
    await setUp(client);
    const [last] = await client.placeOrder({ account: 1, ref: 2, price: 90, quantity: 7 });
    const reads: [string, string][] = [
      ['GET /balances?account=N', '/balances?account=1'],
      ['GET /orders?account=N', '/orders?account=1'],
      ['GET /book?instrument=N&depth=D', '/book?instrument=2'],
      ['GET /health', '/health'],
    ];
    for (const [request, path] of reads) {
      const cell = documentedAnswer(request);
      const body = await getAt(`${base}${path}`, last.sequence);
      const missing = keysOf(body).filter(
        (k) => !new RegExp(`\\b${k.split('.').pop()}\\b`).test(cell),
      );
      assert.deepEqual(missing, [], `${request}: fields the table does not name`);
    }
    await client.close();
  });
});

test('HTTP reads of an account need a key that grants it; the journal an admin key', async () => {
  const admin = createKey(141, true, []);
  const user = createKey(142, false, [1]);
  const prepare = keysFile(admin, user);
  await withNode(async (_node, url) => {
    const base = httpBase(url);
    const root = await BourseClient.connect(url, { clientId: 141, apiKey: admin.token });
    await getAt(`${base}/balances?account=1`, await setUp(root), admin.token);
    assert.equal((await get(`${base}/balances?account=1`, user.token)).status, 200, 'its own');
    assert.equal((await get(`${base}/balances?account=2`, user.token)).status, 403, 'not its');
    assert.equal((await get(`${base}/orders?account=2`, user.token)).status, 403, 'not its');
    // No key at all is 401, with the scheme to use (it was 403, as for a key refused).
    for (const path of ['/balances?account=2', '/orders?account=1', '/events?from=1']) {
      const r = await fetch(`${base}${path}`);
      assert.equal(r.status, 401, `${path}: no key`);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer', path);
      const body = (await r.json()) as { error: string };
      assert.equal(body.error, 'API key missing: send Authorization: Bearer <key>', path);
    }
    const basic = { authorization: 'Basic dXNlcjpwYXNz' };
    assert.equal((await fetch(`${base}/balances?account=1`, { headers: basic })).status, 401);
    assert.equal((await get(`${base}/balances?account=2`, admin.token)).status, 200, 'admin');
    assert.equal((await get(`${base}/book?instrument=2`)).status, 200, 'books are public');
    // The journal holds every client's events: admin only, by sequence or by time.
    for (const query of ['from=1&count=10', 'from-time=0&count=10']) {
      const events = `${base}/events?${query}`;
      const denied = await get(events, 'bk_00000000_wrong');
      assert.equal(denied.status, 403, `${query}: a key refused`);
      // Said as a refused key, not as a good key's want of admin rights (it was "admin key").
      assert.equal(denied.body.error, 'API key refused');
      assert.equal((await get(events)).status, 401, `${query}: no key`);
      const user403 = await get(events, user.token);
      assert.equal(user403.status, 403, `${query}: not admin`);
      assert.match(String(user403.body.error), /admin key/);
      const granted = await get(events, admin.token);
      assert.equal(granted.status, 200, `${query}: admin`);
      assert.ok(Array.isArray(granted.body) && granted.body.length > 0, `${query}: events`);
    }
    // The scheme's case does not matter (RFC 7235): 'bearer' was refused 403.
    const lower = await fetch(`${base}/events?from=1`, {
      headers: { authorization: `bearer ${admin.token}` },
    });
    assert.equal(lower.status, 200, 'a lower-case scheme');
    // A time before the epoch is no time of the journal: '-1' answered 200 from the start.
    for (const time of ['-1', '1969-12-31T23:59:59Z', 'yesterday', 'Jan 1 2020']) {
      const bad = await get(`${base}/events?from-time=${time}`, admin.token);
      assert.equal(bad.status, 400, `from-time=${time}`);
    }
    await root.close();
  }, prepare);
});

test('book streams: the current view, then each change; top of book only the best', async () => {
  await withNode(async (_node, url) => {
    const trader = await BourseClient.connect(url, { clientId: 151 });
    await setUp(trader);
    await trader.placeOrder({
      account: 1,
      ref: 2,
      price: 100,
      quantity: 5,
      flags: CommandFlag.Sell,
    });
    const watcher = await BourseClient.connect(url, { clientId: 152 });
    const depth: BookView[] = [];
    const top: BookView[] = [];
    watcher.subscribeBook(2, (book) => depth.push(book));
    watcher.subscribeBook(2, (book) => top.push(book), { top: true });
    const first = await waitFor('the current view', () => depth.find((b) => b.asks.length === 1));
    assert.equal(first.instrument, 2);
    assert.deepEqual(first.asks, [{ price: 100, quantity: 5, orders: 1 }]);
    assert.deepEqual(first.bids, []);

    await trader.placeOrder({ account: 2, ref: 2, price: 90, quantity: 7 });
    const [last] = await trader.placeOrder({ account: 3, ref: 2, price: 95, quantity: 2 });
    const both = await waitFor('both bids', () => depth.find((b) => b.bids.length === 2));
    assert.deepEqual(
      both.bids,
      [
        { price: 95, quantity: 2, orders: 1 },
        { price: 90, quantity: 7, orders: 1 },
      ],
      'best bid first',
    );
    const best = await waitFor('top of book', () => top.find((b) => b.sequence >= last.sequence));
    assert.deepEqual(best.bids, [{ price: 95, quantity: 2, orders: 1 }]);
    assert.deepEqual(best.asks, [{ price: 100, quantity: 5, orders: 1 }]);
    for (const view of top) assert.ok(view.bids.length <= 1 && view.asks.length <= 1);
    for (let i = 1; i < depth.length; i++) {
      assert.ok(depth[i].sequence >= depth[i - 1].sequence, 'views never go back in time');
    }

    // A trade takes the ask: the views follow.
    await trader.placeOrder({ account: 4, ref: 2, price: 100, quantity: 5 });
    await waitFor('the ask taken', () => {
      const now = depth[depth.length - 1];
      return now.asks.length === 0 ? now : undefined;
    });
    // A halt changes no level, yet both streams say so; and again on resume.
    assert.ok(depth.every((view) => !view.halted));
    const [halt] = await trader.haltInstrument({ instrument: 2 });
    const halted = await waitFor('a halted view', () => depth.find((b) => b.halted));
    assert.ok(halted.sequence >= halt.sequence);
    const before = depth[depth.indexOf(halted) - 1];
    assert.deepEqual([halted.bids, halted.asks], [before.bids, before.asks], 'the same levels');
    await waitFor('a halted top', () => top.find((b) => b.halted));
    await trader.resumeInstrument({ instrument: 2 });
    await waitFor('resumed', () => (depth[depth.length - 1].halted ? undefined : true));
    await Promise.all([trader.close(), watcher.close()]);
  });
});

/**
 * GET /events pages end at a command's last event (a command's events share its sequence).
 * A page cut inside one (an order and its trades) lost the rest of it to a reader paging from
 * the last sequence + 1, as PROTOCOL.md says to.
 */
test('GET /events: pages hold whole commands; paging from last seq + 1 loses none', async () => {
  await withNode(async (_node, url) => {
    const base = httpBase(url);
    const client = await BourseClient.connect(url, { clientId: 133 });
    await setUp(client);
    const sell = { account: 1, ref: 2, price: 100, quantity: 1, flags: CommandFlag.Sell };
    for (let i = 0; i < 3; i++) await client.placeOrder(sell);
    const buy = await client.placeOrder({ account: 2, ref: 2, price: 100, quantity: 3 });
    assert.equal(buy.length, 4, 'accepted and three trades, at one sequence');
    await client.close();
    type Page = { sequence: number; kindName: string; timestamp: number }[];
    const page = async (query: string): Promise<Page> =>
      (await (await fetch(`${base}/events?${query}`)).json()) as Page;
    const all = await page('from=1&count=1000');
    const paged: Page = [];
    for (let from = 1; ;) {
      const part = await page(`from=${from}&count=2`);
      if (part.length === 0) break;
      assert.ok(part.length <= 2 || new Set(part.map((e) => e.sequence)).size === 1);
      paged.push(...part);
      from = part[part.length - 1].sequence + 1;
    }
    assert.deepEqual(paged, all, 'every event, once, in order');
    // A command with more events than count comes whole (the page cannot end before it).
    const whole = await page(`from=${buy[0].sequence}&count=2`);
    assert.deepEqual(
      whole.map((e) => e.kindName),
      ['OrderAccepted', 'Trade', 'Trade', 'Trade'],
    );
    const byTime = await page(`from-time=${buy[0].timestamp}&count=3`);
    assert.equal(byTime.length, 4, 'by time too');
    // To the µs, as ISO-8601 too: 1 µs after an event starts after it (the fraction's last
    // three digits were dropped, and the page began with that event).
    const before = all.find((e) => e.sequence === buy[0].sequence - 1);
    assert.ok(before !== undefined);
    const after = await page(`from-time=${isoTimeUs(before.timestamp + 1)}&count=1`);
    assert.ok(after[0].timestamp > before.timestamp, `${JSON.stringify(after[0])}`);
    const millis = await fetch(`${base}/events?from-time=${Math.floor(before.timestamp / 1000)}`);
    assert.equal(millis.status, 400, 'milliseconds');
    assert.match(((await millis.json()) as { error: string }).error, /13 digits: milliseconds\?/);
    const both = await fetch(`${base}/events?from=1&from-time=${before.timestamp}`);
    assert.equal(both.status, 400, 'from and from-time: one was dropped');
    assert.match(((await both.json()) as { error: string }).error, /not both/);
    // Two one-event commands then the order's four: count 5 stops before the order.
    const cut = await page(`from=${buy[0].sequence - 2}&count=5`);
    assert.deepEqual(
      cut.map((e) => e.sequence),
      [buy[0].sequence - 2, buy[0].sequence - 1],
    );
  });
});
