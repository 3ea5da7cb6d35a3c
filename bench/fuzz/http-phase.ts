/**
 * bench:fuzz's HTTP phase: random requests to a live node's HTTP endpoints (docs/PROTOCOL.md,
 * "HTTP"): every method on the known paths and others, query strings of the keys the
 * endpoints read with values of every shape (numbers past 2^53, signs, exponents, percent
 * escapes, repeats), content types, keys and origins, and POST /commands bodies mutated from
 * valid commands (kinds by name and number, fields of every JSON type, prototype keys, repeated
 * keys, bytes that are not JSON). Raw request bytes go over TCP too.
 *
 * What must hold: no answer is a 500 (a handler that threw) or another 5xx than 503 (busy, not
 * ready), every request is answered or its connection closed, and the node still serves a
 * well-behaved request afterwards.
 */
import { connect } from 'node:net';
import fc from 'fast-check';

const paths = [
  '/health',
  '/ready',
  '/metrics',
  '/events',
  '/commands',
  '/balances',
  '/orders',
  '/book',
  '/dashboard',
  '/',
  '/events/',
  '//events',
  '/%2e%2e/health',
];
const keys = ['from', 'count', 'from-time', 'account', 'at', 'for', 'instrument', 'depth'];
const kinds = ['transfer', 'Deposit', 'place_order', 'CancelAll', 'AddAsset', 'createAccount'];
const fields = ['clientId', 'clientSeq', 'account', 'target', 'ref', 'quantity', 'price'];

const number = fc.oneof(
  fc.integer({ min: -5, max: 300 }).map(String),
  fc.constantFrom('0', '-0', '1e9', '1.5', '9007199254740993', '18446744073709551616', 'NaN'),
  fc.constantFrom('%', '%zz', '%00', '%FF', '+1', ' 1', '0x10', '2026-12-05T00:00:00Z'),
  fc.string({ maxLength: 12 }),
);

const query = fc
  .array(
    fc.tuple(
      fc.oneof(
        { arbitrary: fc.constantFrom(...keys), weight: 9 },
        { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
      ),
      number,
    ),
    {
      maxLength: 4,
    },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

const jsonValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 53 + 2, -1, 0, 1, 2, 255, 256, 2 ** 32, 2 ** 64),
  fc.string({ maxLength: 8 }),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.nat(9), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.nat(9), { maxKeys: 2 }),
);

const commandBody = fc.oneof(
  fc
    .tuple(
      fc.oneof(fc.constantFrom(...kinds), fc.nat(40), fc.string({ maxLength: 10 })),
      fc.dictionary(
        fc.oneof(fc.constantFrom(...fields, 'from', 'to', 'asset', 'amount', 'side', 'tif')),
        jsonValue,
      ),
    )
    .map(([kind, rest]) => JSON.stringify({ kind, clientId: 1, clientSeq: 1, ...rest })),
  fc.constantFrom(
    '{"kind":"Transfer","kind":"Deposit"}',
    '{"kind":"Deposit","__proto__":{"account":1}}',
    '{"kind":"Deposit","account":1,"ref":1,"quantity":1e400}',
    '[1,2,3]',
    '"text"',
    '',
    '{',
    '{"kind":"Deposit","account":1,"ref":1,"quantity":"5"}',
  ),
  fc.string({ maxLength: 200 }),
);

export interface HttpRequestCase {
  method: string;
  path: string;
  contentType: string | null;
  authorization: string | null;
  origin: string | null;
  body: string;
}

export const httpRequestCase: fc.Arbitrary<HttpRequestCase> = fc.record({
  method: fc.oneof(
    { arbitrary: fc.constantFrom('GET', 'POST'), weight: 8 },
    { arbitrary: fc.constantFrom('HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'), weight: 2 },
  ),
  path: fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.constantFrom(...paths), weight: 9 },
        { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
      ),
      query,
    )
    .map(([p, q]) => (q === '' ? p : `${p}?${q}`)),
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'APPLICATION/JSON',
    null,
  ),
  authorization: fc.constantFrom(null, 'Bearer x', 'bearer ', 'Basic abc', 'Bearer '),
  origin: fc.constantFrom(null, 'http://127.0.0.1', 'http://evil.example'),
  body: commandBody,
});

/** The request's raw bytes (HTTP/1.1, closed after its answer). */
export function rawRequest(c: HttpRequestCase, host: string): string {
  const target = /^[\x21-\x7e]*$/.test(c.path) && c.path.startsWith('/') ? c.path : '/x';
  const lines = [`${c.method} ${target} HTTP/1.1`, `host: ${host}`, 'connection: close'];
  if (c.contentType !== null) lines.push(`content-type: ${c.contentType}`);
  if (c.authorization !== null) lines.push(`authorization: ${c.authorization}`);
  if (c.origin !== null) lines.push(`origin: ${c.origin}`);
  const body = Buffer.from(c.body);
  if (c.method !== 'GET' && c.method !== 'HEAD') lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return Buffer.concat([
    head,
    c.method === 'GET' || c.method === 'HEAD' ? Buffer.alloc(0) : body,
  ]).toString('latin1');
}

/**
 * Sends `bytes` on a new connection and resolves with the status of the answer (0: the
 * connection closed unanswered, -1: no answer within `timeoutMs`, the connection left open).
 */
export function send(port: number, bytes: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const done = (status: number): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(-1), timeoutMs);
    socket.on('error', () => done(statusOf(got)));
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      if (got.includes('\r\n')) done(statusOf(got));
    });
    socket.on('end', () => done(statusOf(got)));
    socket.write(bytes, 'latin1');
  });
}

function statusOf(text: string): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** Byte garbage: random bytes, and valid requests with bytes changed. */
export const rawGarbage = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1')),
  fc
    .tuple(httpRequestCase, fc.array(fc.tuple(fc.nat(400), fc.nat(255)), { maxLength: 4 }))
    .map(([c, edits]) => {
      const bytes = Buffer.from(rawRequest(c, '127.0.0.1'), 'latin1');
      for (const [at, byte] of edits) if (bytes.length > 0) bytes[at % bytes.length] = byte;
      return bytes.toString('latin1');
    }),
);

export interface HttpFuzzFigures {
  requests: number;
  garbage: number;
  statuses: Record<string, number>;
  /** Answers of 500, or another 5xx than 503: a handler that threw (each is a finding). */
  serverErrors: string[];
  /** Requests neither answered nor closed within the timeout. */
  unanswered: number;
}

/** Runs random requests and garbage against `port` until `endMs` (performance.now()). */
export async function httpPhase(port: number, endMs: number): Promise<HttpFuzzFigures> {
  const figures: HttpFuzzFigures = {
    requests: 0,
    garbage: 0,
    statuses: {},
    serverErrors: [],
    unanswered: 0,
  };
  const host = `127.0.0.1:${port}`;
  while (performance.now() < endMs) {
    const cases = fc.sample(httpRequestCase, 40);
    const answers = await Promise.all(cases.map((c) => send(port, rawRequest(c, host), 5_000)));
    answers.forEach((status, i) => {
      figures.requests++;
      figures.statuses[status] = (figures.statuses[status] ?? 0) + 1;
      if (status === -1) figures.unanswered++;
      if (status >= 500 && status !== 503 && figures.serverErrors.length < 20) {
        figures.serverErrors.push(`${status} ${JSON.stringify(cases[i])}`);
      }
    });
    // Garbage at once: a request cut short waits for the rest of it, until the timeout.
    const garbage = fc.sample(rawGarbage, 20);
    const statuses = await Promise.all(garbage.map((bytes) => send(port, bytes, 500)));
    statuses.forEach((status, i) => {
      figures.garbage++;
      if (status >= 500 && status !== 503 && figures.serverErrors.length < 20) {
        figures.serverErrors.push(`${status} raw ${JSON.stringify(garbage[i])}`);
      }
    });
  }
  return figures;
}
