/**
 * HTTP on the gateway's port, for low-volume users and operators (docs/PROTOCOL.md, "HTTP"):
 *
 *   GET  /health                              role and journal position (200 while up)
 *   GET  /ready[?for=reads]                   200 when ready for commands (or reads), else 503
 *   GET  /metrics                             Prometheus text
 *   GET  /events?from=SEQ&count=N             journaled events from a sequence (admin key)
 *   GET  /events?from-time=T&count=N          ... from a time (ISO-8601 or µs since the epoch)
 *   POST /commands                            one command as JSON; answered once durable
 *
 * POST goes down the same path as binary commands: the same authorisation, the same ring, and
 * the answer comes from the durable side of the output ring. JSON is for this edge only.
 */
import { httpBodyMaxBytes, httpEventsMax, httpPendingMax } from '../constants.js';
import { CommandFlag, CommandKind } from '../protocol/command-layout.js';
import {
  commandFieldNames,
  clientIdMax,
  isClientId,
  isCommandFieldName,
  narrowFieldError,
  type CommandFields,
} from '../protocol/command-writer.js';
import { commandKindName, eventKindName, type EventRecord } from '../protocol/event-reader.js';
import { statusName } from '../protocol/status.js';
import { shown } from '../protocol/shown.js';
import { readPath } from '../protocol/frames.js';
import { readTimeUs } from '../protocol/time-us.js';
import {
  namedCommandOf,
  namedCommands,
  toFields,
  type NamedCommand,
} from '../protocol/named-commands.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';
import type { JournalChunks } from './journal-stream.js';
import { ownSideOf } from './trade-privacy.js';
import { jsonKeyProblem } from './json-body.js';
import { inexactNumber } from './json-numbers.js';
import { badEscapeParameter, repeatedParameter } from './query-escapes.js';
import { headOnly } from './head.js';
import { contentTypeRefusal, crossOriginRefusal, isJsonContentType } from './origin.js';
import type { NodeRole, ReadyUse } from './gateway.js';

/** Reads of the journal for GET /events (the composition root provides them). */
export interface JournalQueries extends JournalChunks {
  eventsFrom(sequence: number, count: number): EventRecord[];
  eventsFromTime(timestampUs: number, count: number): EventRecord[];
  /** The events naming `account` from `sequence` (a bounded look); `next`: where to go on. */
  eventsNaming(
    account: number,
    sequence: number,
    count: number,
  ): { events: EventRecord[]; next: number };
  durableSequence(): number;
  /**
   * What a client is told of where the node stands (Welcome, Subscribed): the durable sequence,
   * on a cluster member no further than committed, as reads and streams show. A primary
   * journals a batch before a majority holds it, and a failover may drop that tail and put
   * other events at its sequences: told them, the SDK took those events, on a quiet account
   * stream, for older than its Subscribe and dropped them (cluster-account-start.test.ts).
   */
  visibleSequence(): number;
  /** Commands the business-logic processor took since the node started (0 on a standby). */
  commandsProcessed(): number;
  /** Events journaled durably since the node started (on a standby: stored). */
  eventsDurable(): number;
  /** Prometheus text: the node's metrics, then the process's. */
  metrics(): Promise<string>;
  /** Why no command is being answered (the pipeline watch: a stall), or null. */
  stalled(): string | null;
  /** Free bytes on the data folder's disk at the last look (disk-watch.ts); -1: unknown. */
  dataFreeBytes?(): number;
}

/** What the gateway does with an authorised HTTP command. */
export interface HttpCommands {
  /** Checks the key and the command; returns an error text, or null when accepted. */
  submit(
    token: string,
    fields: CommandFields,
    answer: (events: EventRecord[]) => void,
    res: HttpResponse,
  ): string | null;
  pending(): number;
  /**
   * Why a bearer token may not read the journal (null: it may): it holds every client's events,
   * so an admin key (as for the journal stream), or anyone when the node has no keys
   * (development mode). A refused key is counted (http-keys.ts): `res` is the request's.
   */
  journalReadRefusal(token: string, res: HttpResponse): string | null;
  /** Why a bearer token may not read `account` (a key granting it, or an admin key), or null. */
  accountReadRefusal(token: string, account: number, res: HttpResponse): string | null;
  /** Whether the read model knows `account`; null when it cannot tell (none, or busy). */
  accountKnown(account: number): Promise<boolean | null>;
  /** No keys: every session is admin (origin.ts refuses other sites' pages then). */
  development(): boolean;
}

export function mountHttp(
  app: TemplatedApp,
  journal: JournalQueries,
  role: NodeRole,
  commands: HttpCommands,
): void {
  route(app, 'get', '/health', (res) => json(res, '200 OK', health(role, journal)));
  route(app, 'get', '/ready', (res, req) => getReady(res, req, role, journal));
  route(app, 'get', '/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    void journal.metrics().then(
      (text) => {
        if (aborted) return;
        res.cork(() => res.writeHeader('content-type', 'text/plain; version=0.0.4').end(text));
      },
      (error: unknown) => {
        if (!aborted) failed(res, error); // a collector that threw: 500, the node goes on
      },
    );
  });
  route(app, 'get', '/events', (res, req) => {
    const token = bearerToken(req);
    const account = req.getQuery('account') ?? '';
    if (account !== '') return getAccountEvents(res, req, journal, account, commands, token);
    const refusal = commands.journalReadRefusal(token, res);
    if (refusal === null) return getEvents(res, req, journal);
    keyRefused(res, token, refusal);
  });
  route(app, 'post', '/commands', (res, req) => {
    const crossOrigin = crossOriginRefusal(req, commands.development());
    if (crossOrigin !== null) return json(res, '403 Forbidden', { error: crossOrigin });
    if (!role.accepting()) return notPrimary(res, role);
    if (isJsonContentType(req)) return postCommand(res, req, commands);
    json(res, '415 Unsupported Media Type', { error: contentTypeRefusal(req) });
  });
  app.any('/*', (res) => {
    res.onAborted(ignoreAbort);
    json(res, '404 Not Found', { error: 'no such endpoint' });
  });
}

/** For answers that go out at once: a reset connection leaves nothing to clean up. */
function ignoreAbort(): void {}

/**
 * Serves `method` at `path` (a GET route answers HEAD too: head.ts); any other method there is
 * answered 405 with `Allow` naming it (it was 404, "no such endpoint"). uWS tries a method's
 * own routes before `any`. A handler that throws is answered 500 with the error's message: a
 * throw out of a uWS handler ends the process, and GET /events on a journal that a damaged page
 * cut short took the node down.
 * Every handler has an abort handler (its own replaces this one): a client that reset the
 * connection while a large answer went out ended the process too, as uWS does when end()
 * cannot finish and nothing would hear of the abort (a fuzzing audit: GET /events, 35 KB).
 */
export function route(
  app: TemplatedApp,
  method: 'get' | 'post',
  path: string,
  handler: (res: HttpResponse, req: HttpRequest) => void,
): void {
  const serve = (res: HttpResponse, req: HttpRequest): void => {
    res.onAborted(ignoreAbort);
    const query = req.getQuery() ?? '';
    const badEscape = badEscapeParameter(query);
    if (badEscape !== null) {
      const error = `${badEscape}: a malformed percent-escape (% and two hex digits)`;
      return json(res, '400 Bad Request', { error });
    }
    const repeated = repeatedParameter(query);
    if (repeated !== null) {
      return json(res, '400 Bad Request', { error: `${repeated}: given twice` });
    }
    try {
      handler(res, req);
    } catch (error) {
      failed(res, error);
    }
  };
  app[method](path, serve);
  if (method === 'get') app.head(path, (res, req) => serve(headOnly(res), req));
  const allow = method === 'get' ? 'GET, HEAD' : 'POST';
  app.any(path, (res) => {
    res.onAborted(ignoreAbort);
    res
      .writeStatus('405 Method Not Allowed')
      .writeHeader('allow', allow)
      .writeHeader('content-type', 'application/json')
      .end(JSON.stringify({ error: `this endpoint takes ${method.toUpperCase()}` }));
  });
}

/** Answers 500 with why, unless the handler answered already (then nothing more can go). */
function failed(res: HttpResponse, error: unknown): void {
  const why = error instanceof Error ? error.message : String(error);
  try {
    res.cork(() => json(res, '500 Internal Server Error', { error: why }));
  } catch {
    // Answered, or the client went away: there is no one to tell.
  }
}

/**
 * What GET /health answers (the dashboard shows the same): role, journal position and the free
 * space on the data folder's disk (null when not known: a full disk stops the node).
 */
export function health(role: NodeRole, journal: JournalQueries): Record<string, unknown> {
  const free = journal.dataFreeBytes?.() ?? -1;
  const dataFreeBytes = free < 0 ? null : free;
  return {
    status: 'ok',
    ...role.describe(),
    durableSequence: journal.durableSequence(),
    dataFreeBytes,
  };
}

/**
 * GET /ready: 200 `{ready: true, ...}` when the node is ready for commands (a serving primary;
 * a single node once started; neither while its pipeline is stalled) or, with `?for=reads`, for
 * reads (also a standby that follows its primary); otherwise 503 `{ready: false, reason, ...}`.
 * Both add the role, as /health does.
 */
function getReady(
  res: HttpResponse,
  req: HttpRequest,
  role: NodeRole,
  journal: JournalQueries,
): void {
  const asked = req.getQuery('for') ?? '';
  if (asked !== '' && asked !== 'commands' && asked !== 'reads') {
    return json(res, '400 Bad Request', { error: 'for: commands or reads' });
  }
  const use: ReadyUse = asked === 'reads' ? 'reads' : 'commands';
  // A stall holds commands only: reads are answered from the read model meanwhile.
  const reason = notReadyFor(role, use) ?? (use === 'commands' ? journal.stalled() : null);
  const where = { ...role.describe(), durableSequence: journal.durableSequence() };
  const body = { ready: reason === null, for: use, ...where };
  if (reason === null) return json(res, '200 OK', body);
  json(res, '503 Service Unavailable', { ...body, reason });
}

/** Why the node is not ready for `use` (what GET /ready answers), or null when it is. */
export function notReadyFor(role: NodeRole, use: ReadyUse): string | null {
  if (role.notReady !== undefined) return role.notReady(use);
  return use === 'reads' || role.accepting() ? null : 'not the primary';
}

/**
 * A page's `count` of events: 100 when not given, and any larger run of digits than
 * httpEventsMax taken as it (as documented: count=1001 was, but 17 digits were refused 400);
 * null when it is no whole number of 1 or more in digits (0, -1, 1.5, 1e9).
 */
function pageCount(req: HttpRequest): number | null {
  const text = req.getQuery('count') ?? '100';
  if (!/^\d+$/.test(text)) return null;
  // Digits alone: Number() reads a longer run than a double holds as more than the bound.
  const count = Math.min(Number(text), httpEventsMax);
  return count >= 1 ? count : null;
}

/** What a bad `count` is answered (it said "1 to 1000", and a larger one was taken). */
const countError =
  `count: a whole number from 1, in digits ` +
  `(more than ${httpEventsMax} is taken as ${httpEventsMax})`;

function getEvents(res: HttpResponse, req: HttpRequest, journal: JournalQueries): void {
  const from = req.getQuery('from');
  const fromTime = req.getQuery('from-time');
  const count = pageCount(req);
  if (count === null) return json(res, '400 Bad Request', { error: countError });
  if (from !== undefined && from !== '' && fromTime !== undefined && fromTime !== '') {
    // As replay refuses --to-seq with --to-time: one was silently dropped (from-time).
    return json(res, '400 Bad Request', { error: 'give from=SEQ or from-time=T, not both' });
  }
  if (from !== undefined && from !== '') {
    const sequence = queryNumber(from);
    if (!Number.isSafeInteger(sequence) || sequence < 0) {
      return json(res, '400 Bad Request', { error: 'from: a sequence number' });
    }
    return json(res, '200 OK', journal.eventsFrom(sequence, count).map(readable));
  }
  if (fromTime !== undefined && fromTime !== '') {
    // As replay --to-time reads it (protocol/time-us.ts): to the µs, the same range.
    const time = readTimeUs(fromTime);
    if (time.problem !== null) {
      return json(res, '400 Bad Request', { error: `from-time: ${time.problem}` });
    }
    return json(res, '200 OK', journal.eventsFromTime(time.us, count).map(readable));
  }
  json(res, '400 Bad Request', { error: 'give from=SEQ or from-time=T' });
}

/**
 * GET /events?account=N&from=SEQ&count=C: the events that name one account, for a key that
 * grants it (the whole journal needs an admin key), so that a client can read what its account
 * streams sent while it was not connected. Trades show only the account's own side, as its
 * stream does. `{events, next}`: `next` is where the next page starts.
 */
function getAccountEvents(
  res: HttpResponse,
  req: HttpRequest,
  journal: JournalQueries,
  accountText: string,
  commands: HttpCommands,
  token: string,
): void {
  const account = queryNumber(accountText);
  const sequence = queryNumber(req.getQuery('from') ?? '');
  const count = pageCount(req);
  if (!Number.isSafeInteger(account) || account < 1) {
    return json(res, '400 Bad Request', { error: 'account: an account id' });
  }
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    return json(res, '400 Bad Request', { error: 'from: a sequence number (with account=)' });
  }
  if (count === null) return json(res, '400 Bad Request', { error: countError });
  const refusal = commands.accountReadRefusal(token, account, res);
  if (refusal !== null) return keyRefused(res, token, refusal);
  // Unknown: 404, as /balances and /orders answer (it was 200 with no events, or with the
  // rejections of commands that named it). The read model says, as it does for them; when it
  // cannot (busy), the journal is read as before rather than the page refused.
  let aborted = false;
  res.onAborted(() => (aborted = true));
  void commands.accountKnown(account).then((known) => {
    if (aborted) return;
    // Out of route()'s try: a journal read that throws here must be answered too (500), or the
    // rejection, unhandled, ends the process.
    try {
      res.cork(() => {
        if (known === false) return json(res, '404 Not Found', { error: 'no such account' });
        const page = journal.eventsNaming(account, sequence, count);
        const events = page.events.map((e) => readable(ownSideOf(e, account)));
        json(res, '200 OK', { account, events, next: page.next });
      });
    } catch (error) {
      failed(res, error);
    }
  });
}

/**
 * A whole number in a query string (decimal digits only), or NaN. `Number` also took '1e3'
 * (account 1000), '0x10', ' 7' and '' (0).
 */
export function queryNumber(text: string | undefined): number {
  return text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * An event for JSON, with its kind and status by name: named in place (every caller hands a
 * record decoded for this answer alone). A copy by spread was half the cost of a 1,000-event
 * page of GET /events on the consensus thread (3.8 ms a warm page, 1.8 in place).
 */
export function readable(e: EventRecord): EventRecord & Record<string, unknown> {
  const named = e as EventRecord & Record<string, unknown>;
  named.kindName = eventKindName(e.kind);
  named.commandKindName = commandKindName(e.commandKind);
  named.statusName = statusName(e.status);
  return named;
}

/**
 * The token of an `authorization: Bearer <key>` header, or '' when there is none. The scheme's
 * case does not matter (RFC 7235 2.1): `bearer <key>` was refused 403.
 */
export function bearerToken(req: HttpRequest): string {
  const auth = req.getHeader('authorization');
  return auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7) : '';
}

/**
 * Answers a request its key does not allow: 401 with `www-authenticate: Bearer` when it sent
 * no key at all (it was 403 "not allowed for this API key", which reads as a key refused), else
 * 403 with `error`. Only a node with keys refuses (development mode allows every request).
 */
export function keyRefused(res: HttpResponse, token: string, error: string): void {
  if (token !== '') return json(res, '403 Forbidden', { error });
  res
    .writeStatus('401 Unauthorized')
    .writeHeader('www-authenticate', 'Bearer')
    .writeHeader('content-type', 'application/json')
    .end(JSON.stringify({ error: 'API key missing: send Authorization: Bearer <key>' }));
}

function postCommand(res: HttpResponse, req: HttpRequest, commands: HttpCommands): void {
  const token = bearerToken(req);
  // No key where keys are needed: 401 before the body is read (its checks would tell a caller
  // without a key how commands are judged; it was 400 for a bad body, 401 for a good one).
  if (token === '' && !commands.development()) return keyRefused(res, token, '');
  let aborted = false;
  res.onAborted(() => (aborted = true));
  readBody(res, (body) => {
    if (aborted) return;
    if (body === null) return json(res, '413 Payload Too Large', { error: 'body too large' });
    if (commands.pending() >= httpPendingMax) {
      return json(res, '503 Service Unavailable', { error: 'busy: send again later' });
    }
    const parsed = parseCommand(body);
    if (typeof parsed === 'string') return json(res, '400 Bad Request', { error: parsed });
    const answer = (events: EventRecord[]): void => {
      if (!aborted) res.cork(() => json(res, '200 OK', { events: events.map(readable) }));
    };
    const refused = commands.submit(token, parsed, answer, res);
    if (refused === null) return;
    const status = refusalStatus(refused);
    if (status.startsWith('403')) keyRefused(res, token, refused);
    else json(res, status, { error: refused });
  });
}

/** The HTTP status of a refused command, by its reason's first word. */
function refusalStatus(reason: string): string {
  if (reason.startsWith('busy')) return '503 Service Unavailable';
  if (reason.startsWith('conflict')) return '409 Conflict';
  return '403 Forbidden';
}

function readBody(res: HttpResponse, done: (body: Buffer | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.onData((chunk, last) => {
    size += chunk.byteLength;
    if (size > httpBodyMaxBytes) {
      if (last) done(null);
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory
    if (last) done(Buffer.concat(chunks));
  });
}

const integerFields = ['clientId', 'clientSeq', ...commandFieldNames] as const;

/** A command from JSON, every number checked; or the reason it is refused. */
export function parseCommand(body: Buffer): CommandFields | string {
  let value: unknown;
  const text = body.toString('utf8');
  try {
    value = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  const keyProblem = jsonKeyProblem(text); // a key twice, or __proto__ (json-body.ts)
  if (keyProblem !== null) return keyProblem;
  // Before any field is read: JSON.parse has rounded a number that a double cannot hold.
  const inexact = inexactNumber(text);
  if (inexact !== null) return inexact;
  if (typeof value !== 'object' || value === null) return 'the body is not a JSON object';
  if (Array.isArray(value)) return 'the body is one command (a JSON object), not a list';
  const o = value as Record<string, unknown>;
  const kind = typeof o.kind === 'string' ? kindByName(o.kind) : o.kind;
  if (
    typeof kind !== 'number' ||
    !Number.isInteger(kind) ||
    kind <= 0 ||
    kind >= CommandKind.Count
  ) {
    const numbers = `or its number (1 to ${CommandKind.Count - 1})`;
    return `kind: one of ${kindNames()}, ${numbers}; got ${shown(o.kind)}`;
  }
  const source = withProtocolNames(o, kind);
  if (typeof source === 'string') return source;
  const fields: Record<string, number> = { kind };
  for (const name of integerFields) {
    const v = source[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < -(2 ** 53 - 1)) {
      return `${name}: a safe integer`;
    }
    fields[name] = v;
  }
  if (!isClientId(fields.clientId)) {
    return `clientId: 1 to ${clientIdMax}`;
  }
  if (fields.clientSeq === undefined || fields.clientSeq < 1) return 'clientSeq: 1 or more';
  const narrow = narrowFieldError(fields);
  if (narrow !== null) return narrow;
  // A chain closes with a command without the flag, in the same frame: one command never does.
  if (((fields.flags ?? 0) & CommandFlag.Linked) !== 0) {
    return 'linked: a chain of linked commands goes in one WebSocket frame, not over HTTP';
  }
  return fields as unknown as CommandFields;
}

/**
 * The body with the protocol's field names: as it is, or mapped from the SDK's named fields
 * (`{"kind": "transfer", "from": 1, "to": 2, "asset": 1, "amount": 5}`) when it uses any name
 * the protocol lacks. An unknown name is refused, not dropped: {"side": "sell"} in a body of
 * protocol names would have placed a buy.
 */
function withProtocolNames(
  o: Record<string, unknown>,
  kind: number,
): Record<string, unknown> | string {
  const isIdentity = (name: string): boolean =>
    name === 'kind' || name === 'clientId' || name === 'clientSeq';
  const foreign = Object.keys(o).find((name) => !isIdentity(name) && !isCommandFieldName(name));
  if (foreign === undefined) return o;
  const named = namedCommandOf(kind);
  if (named === null) return `${shown(foreign)}: not a command field (${integerFields.join(', ')})`;
  const args = Object.create(null) as Record<string, unknown>; // no prototype to reach
  for (const name of Object.keys(o)) if (!isIdentity(name)) args[name] = o[name];
  try {
    return { clientId: o.clientId, clientSeq: o.clientSeq, ...toFields(named, args) };
  } catch (error) {
    return (error as Error).message;
  }
}

/** A kind by name, as people write it: Transfer, transfer, place_order, place-order. */
/**
 * A kind by the protocol's name, or by the name of the SDK call that sends it: a body written
 * with the SDK's field names (`from`, `pending`) used its call's name too (`postPending`,
 * `cancel`), and was refused as an unknown kind.
 */
function kindByName(name: string): number {
  const wanted = nameKey(name);
  for (let k = 1; k < CommandKind.Count; k++) if (nameKey(commandKindName(k)) === wanted) return k;
  for (const call of Object.keys(namedCommands) as NamedCommand[]) {
    if (nameKey(call) === wanted) return namedCommands[call][0];
  }
  return -1;
}

function nameKey(name: string): string {
  return name.replace(/[\s_-]/g, '').toLowerCase();
}

function kindNames(): string {
  const names: string[] = [];
  for (let k = 1; k < CommandKind.Count; k++) names.push(commandKindName(k));
  return names.join(', ');
}

/**
 * 503 from a member that takes no commands (a standby): the body names the role, and the
 * primary it follows if it knows one, so that a client can go there (the SDK tries the next
 * member it knows of).
 */
export function notPrimary(res: HttpResponse, role: NodeRole): void {
  json(res, '503 Service Unavailable', { error: 'not the primary', ...role.describe() });
}

/**
 * A WebSocket's session by its path: false for commands (`/`), true for reads (`/read`, or
 * `/read/`); null for any other path, answered 404 here. A mistyped path must not open a
 * command session (`/read/` did, and `/raed` too; `//` did, as `/` with a trailing slash).
 */
export function sessionOfPath(res: HttpResponse, url: string): boolean | null {
  if (url === '/' || url === '') return false;
  if (url === readPath || url === `${readPath}/`) return true;
  json(res, '404 Not Found', { error: `no session at ${url}: / takes commands, /read reads` });
  return null;
}

/** Ends `res` with `status` and `body` as JSON. */
export function json(res: HttpResponse, status: string, body: unknown): void {
  res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify(body));
}
