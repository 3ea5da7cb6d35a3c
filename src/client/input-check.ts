/**
 * What the SDK checks before it sends anything: the session's options and each command's
 * fields. A value the wire cannot carry is refused here, with the field named, instead of
 * being truncated on the way (client id 1.5 was written as 1: another client's id, its
 * idempotency window and its commands).
 */
import {
  clientIdMax,
  commandFieldNames,
  isClientId,
  isCommandFieldName,
  narrowFieldError,
  type CommandBody,
} from '../protocol/command-writer.js';
import { CommandKind } from '../protocol/generated/bourse/protocol/command-kind.js';
import { CommandFlag } from '../protocol/command-layout.js';
import { ClientError, type ConnectOptions } from './session.js';
import { shown } from '../protocol/shown.js';

type Fields = CommandBody;

/** @throws TypeError or RangeError naming the option, before any connection is made. */
export function checkConnectOptions(o: ConnectOptions): void {
  if (typeof o !== 'object' || o === null) {
    throw new TypeError(`options: an object with at least clientId, not ${shown(o)}`);
  }
  if (!isClientId(o.clientId)) {
    throw new RangeError(
      `clientId: a whole number from 1 to ${clientIdMax}, not ${shown(o.clientId)}`,
    );
  }
  atLeast('firstClientSeq', o.firstClientSeq, 1);
  atLeast('inFlightMax', o.inFlightMax, 1); // 0 would wait for room that never comes
  atLeast('queueMax', o.queueMax, 0); // 0: a call without room in flight is refused at once
  atLeast('reconnectAttempts', o.reconnectAttempts, 0);
  atLeast('reconnectWaitMs', o.reconnectWaitMs, 0);
  atLeast('silenceMs', o.silenceMs, 0);
  atLeast('busyTimeoutMs', o.busyTimeoutMs, 1);
  atLeast('connectWaitMs', o.connectWaitMs, 0);
  // Each of these threw later, from the socket's open event, and ended the process.
  if (o.apiKey !== undefined && typeof o.apiKey !== 'string') {
    throw new TypeError(`apiKey: a key as \`bourse keys create\` shows it, not ${shown(o.apiKey)}`);
  }
  if (o.login !== undefined && o.login !== 'key' && o.login !== 'challenge') {
    throw new TypeError(`login: 'key' or 'challenge', not ${shown(o.login)}`);
  }
  const members = o.members as unknown;
  if (members !== undefined && !(Array.isArray(members) && members.every(isText))) {
    throw new TypeError(`members: a list of ws:// addresses, not ${shown(members)}`);
  }
  for (const [i, member] of (o.members ?? []).entries()) checkUrl(`members[${i}]`, member);
  if (o.onReconnect !== undefined && typeof o.onReconnect !== 'function') {
    throw new TypeError(`onReconnect: a function, not ${shown(o.onReconnect)}`);
  }
  if (o.onState !== undefined && typeof o.onState !== 'function') {
    throw new TypeError(`onState: a function, not ${shown(o.onState)}`);
  }
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') {
    throw new TypeError(`readOnly: true or false, not ${shown(o.readOnly)}`);
  }
  const cancel = o.cancelOnDisconnect;
  if (cancel !== undefined && typeof cancel !== 'boolean') {
    throw new TypeError(`cancelOnDisconnect: true or false, not ${shown(cancel)}`);
  }
  if (cancel === true && o.readOnly === true) {
    throw new TypeError('cancelOnDisconnect: a read-only session places no orders to cancel');
  }
  const unknown = Object.keys(o).find((key) => !connectOptionNames.has(key));
  if (unknown !== undefined) {
    throw new TypeError(`${unknown}: not an option (${[...connectOptionNames].join(', ')})`);
  }
}

/** Every option of `connect` (a misspelt one was ignored: `inflightMax` left the default). */
const connectOptionNames = new Set(
  Object.keys({
    clientId: true,
    apiKey: true,
    login: true,
    firstClientSeq: true,
    inFlightMax: true,
    queueMax: true,
    reconnectAttempts: true,
    reconnectWaitMs: true,
    members: true,
    connectWaitMs: true,
    silenceMs: true,
    busyTimeoutMs: true,
    readOnly: true,
    cancelOnDisconnect: true,
    onReconnect: true,
    onState: true,
  } satisfies Record<keyof ConnectOptions, true>),
);

/**
 * A node's address, ws://host:port (wss:// behind a TLS proxy). '127.0.0.1:9001' was refused
 * by the socket library's bare 'Invalid URL', and 'http://...' by its own words, after connect.
 */
export function checkUrl(name: string, url: unknown): void {
  let protocol = '';
  try {
    protocol = typeof url === 'string' ? new URL(url).protocol : '';
  } catch {
    protocol = '';
  }
  if (protocol !== 'ws:' && protocol !== 'wss:') {
    throw new TypeError(`${name}: a node's address as ws://host:port, not ${shown(url)}`);
  }
}

function isText(value: unknown): boolean {
  return typeof value === 'string';
}

function atLeast(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name}: a whole number from ${min}, not ${shown(value)}`);
  }
}

/**
 * The names a command's fields may have (`kind` is taken and ignored: the call names the kind).
 * Anything else is a mistake the wire would not show: `{ side: 'sell' }` from JavaScript was
 * dropped and the order placed as a buy.
 */

export const notAField =
  `not a command field (${commandFieldNames.join(', ')}; ` +
  'native-layouts/commands.fbs says which each kind reads)';

/** The first property of `f` that is no command field, or null (no allocation). */
export function unknownField(f: object): string | null {
  for (const key in f) if (key !== 'kind' && !isCommandFieldName(key)) return key;
  return null;
}

/** Absent, or a safe integer (the wire takes integers only). */
function integer(value: number | undefined): boolean {
  return value === undefined || Number.isSafeInteger(value);
}

/**
 * The first field that is not a safe integer, or null. Each field read by name (a loop over
 * names showed in a streaming client's profile).
 */
export function invalidField(f: Fields): string | null {
  if (integer(f.account) && integer(f.target) && integer(f.ref) && integer(f.quantity)) {
    if (integer(f.price) && integer(f.aux)) return null;
  }
  const names = ['account', 'target', 'ref', 'quantity', 'price', 'aux'] as const;
  return names.find((name) => !integer(f[name])) ?? null;
}

/**
 * The node's own command kinds, which a client's session is answered CommandKindUnknown for:
 * cancel on disconnect's marks (the gateway writes them under disconnectClientId).
 */
const nodeKinds: readonly number[] = [CommandKind.SetCancelOnDisconnect];

/**
 * The highest command kind a client sends (the wire's kind is one byte: a larger number lost
 * its high bits). The node's own kinds come after it.
 */
const commandKindMax = Math.max(
  ...Object.values(CommandKind).filter(
    (k): k is number => typeof k === 'number' && !nodeKinds.includes(k),
  ),
);

/**
 * Why a command of `kind` with fields `f` cannot be sent, or null: a kind that is none (999
 * went out as 231, its low byte: 259 would have been a Deposit), fields that are no object, a
 * field that is not a safe integer, a value too wide for its place, a name that is no field
 * (if `names`: batchCommandError skips those of a batch's commands built alike). `at`: its
 * place in a batch, or -1.
 */
export function commandError(
  kind: number,
  f: Fields,
  at: number,
  names: boolean,
): TypeError | RangeError | null {
  if (!Number.isInteger(kind) || kind < 1 || kind > commandKindMax) {
    const own = nodeKinds.includes(kind) ? ` (${CommandKind[kind]}: the node's own)` : '';
    return new RangeError(
      `kind: a CommandKind from 1 to ${commandKindMax}, not ${shown(kind)}${own}`,
    );
  }
  // An array is an object too: `submit(kind, [])` went out as a command of zeros.
  if (typeof f !== 'object' || f === null || Array.isArray(f)) {
    return new TypeError(`${placed(at)}fields: an object of the command's fields, not ${shown(f)}`);
  }
  const bad = invalidField(f);
  if (bad !== null) return new TypeError(`${placed(at)}${bad} must be a safe integer`);
  const narrow = narrowFieldError(f);
  if (narrow !== null) return new RangeError(`${placed(at)}${narrow}`);
  const unknown = names ? unknownField(f) : null;
  return unknown === null ? null : new TypeError(`${placed(at)}${unknown}: ${notAField}`);
}

/**
 * Why a status call (submitStatus) cannot go, or null: its command's (as commandError), its
 * handler's or its tag's. Its names are checked as a batch's are (`keys`: the last call's, kept
 * by the caller). A linked chain goes by submit or submitBatch: a status call holds no chain.
 */
export function statusCallError(
  kind: number,
  f: Fields,
  onStatus: unknown,
  tag: unknown,
  keys: string[],
): TypeError | RangeError | null {
  const names = !sameKeys(f, keys);
  const error = commandError(kind, f, -1, names);
  if (error !== null) return error;
  if (names) {
    keys.length = 0;
    for (const key in f) keys.push(key);
  }
  if (typeof onStatus !== 'function') {
    const wanted = 'a function (error, status, tag, sequence)';
    return new TypeError(`onStatus: ${wanted}, not ${shown(onStatus)}`);
  }
  if (typeof tag !== 'number' || !Number.isFinite(tag)) {
    return new TypeError(`tag: a finite number (told back to onStatus), not ${shown(tag)}`);
  }
  if (((f.flags ?? 0) & CommandFlag.Linked) !== 0) {
    return new TypeError('flags: Linked: a chain goes by submit or submitBatch, not submitStatus');
  }
  return null;
}

/**
 * commandError of a batch's command `at`, its names checked too: every command's, as a
 * misspelt `flag` on a later one went out without its Sell (a buy). `keys`: the names of the
 * last command checked; a command with the same names in the same order (a batch's are built
 * alike) is walked against them, not looked up name by name.
 */
export function batchCommandError(
  kind: number,
  list: readonly Fields[],
  at: number,
  keys: string[],
): TypeError | RangeError | null {
  const f = list[at];
  const names = !sameKeys(f, keys);
  const error = commandError(kind, f, at, names);
  if (error !== null || !names) return error;
  keys.length = 0;
  for (const key in f) keys.push(key);
  return null;
}

/** Whether `f`'s own enumerable names are `keys`, in order. */
function sameKeys(f: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in f) if (key !== keys[i++]) return false;
  return i === keys.length;
}

/** A batch command's place, as its errors begin ('' for a single command). */
function placed(at: number): string {
  return at < 0 ? '' : `[${at}].`;
}

/**
 * Whether a call that takes named fields or the protocol's was given named ones: `named` (a
 * name only the named form has) is in it, or `own` (one the protocol's form always has) is
 * not, or it is no object at all; the named form's check then says what is missing or wrong,
 * with the call's name. (`{ to, asset, amount }` was read as protocol fields: "to: not a
 * command field"; `{}` was sent, all zeros.)
 */
export function givenNamed(f: unknown, named: string, own?: string): boolean {
  return typeof f !== 'object' || f === null || named in f || (own !== undefined && !(own in f));
}

/**
 * Whether `f` names no field at all: `{}`, or an array (an object too). Taken as named fields,
 * whose check says what is missing: as the protocol's, `placeOrder({})` and `placeOrder([])`
 * went out as orders of zeros. No allocation: a loop that stops at the first key.
 */
export function noFields(f: object): boolean {
  if (Array.isArray(f)) return true;
  for (const key in f) return key === undefined;
  return true;
}

/**
 * @throws TypeError at a subscribe call given a handler that is no function (it threw later,
 * from the socket's message event, and ended the process) or a parameter that is no whole
 * number from 0 (the server refused it, heard only through `onError`); ClientError once the
 * session is closed (a subscription then heard nothing, and said nothing). `onError` is the
 * call's refusal handler (a function or undefined), or for subscribeBook its options object.
 */
export function checkSubscribe(
  call: string,
  name: string,
  value: number,
  handler: unknown,
  closed: Error | null,
  onError: unknown,
): void {
  if (closed !== null) {
    const code = closed instanceof ClientError ? closed.code : 0;
    throw new ClientError(code, `${call}: the session is closed (${closed.message})`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${call}: '${name}' must be a whole number from 0, not ${shown(value)}`);
  }
  if (typeof handler !== 'function') {
    throw new TypeError(`${call}: the handler must be a function, not ${shown(handler)}`);
  }
  if (call === 'subscribeBook') checkBookOptions(onError);
  else checkOnError(call, onError);
}

/**
 * A refusal handler: a function, or nothing. An object passed instead (the `{ onError }` form
 * that subscribeBook takes) was kept and called when the server refused the subscription:
 * `TypeError: ask.onError is not a function`, thrown from the socket's handler, uncatchable.
 */
function checkOnError(call: string, onError: unknown): void {
  if (onError === undefined || typeof onError === 'function') return;
  const hint =
    typeof onError === 'object' && onError !== null && 'onError' in onError
      ? " (the { onError } object is subscribeBook's; pass the function itself)"
      : '';
  throw new TypeError(`${call}: onError must be a function, not ${shown(onError)}${hint}`);
}

const bookOptionNames = new Set(['top', 'onError']);

/** subscribeBook's options: `{ top?: boolean, onError?: function }`, nothing else. */
function checkBookOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`subscribeBook: options must be { top, onError }, not ${shown(options)}`);
  }
  const o = options as { top?: unknown; onError?: unknown };
  const unknown = Object.keys(o).find((key) => !bookOptionNames.has(key));
  if (unknown !== undefined) {
    throw new TypeError(`subscribeBook: ${unknown}: not an option (top, onError)`);
  }
  if (o.top !== undefined && typeof o.top !== 'boolean') {
    throw new TypeError(`subscribeBook: top must be true or false, not ${shown(o.top)}`);
  }
  checkOnError('subscribeBook', o.onError);
}

/**
 * subscribeAccount's `from`: undefined, or a sequence from 1 (the server refuses others, and
 * one past its durable head, with Error 4).
 */
export function checkFrom(from: unknown): number | undefined {
  if (from === undefined || (Number.isSafeInteger(from) && (from as number) >= 1)) {
    return from as number | undefined;
  }
  throw new TypeError(`subscribeAccount: 'from' must be a sequence from 1, not ${shown(from)}`);
}
