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
  type CommandBody,
} from '../protocol/command-writer.js';
import type { ConnectOptions } from './session.js';
import { shown } from '../protocol/shown.js';

type Fields = CommandBody;

/** @throws TypeError or RangeError naming the option, before any connection is made. */
export function checkConnectOptions(o: ConnectOptions): void {
  if (!isClientId(o.clientId)) {
    throw new RangeError(
      `clientId: a whole number from 1 to ${clientIdMax}, not ${shown(o.clientId)}`,
    );
  }
  atLeast('firstClientSeq', o.firstClientSeq, 1);
  atLeast('inFlightMax', o.inFlightMax, 1); // 0 would wait for room that never comes
  atLeast('queueMax', o.queueMax, 0); // 0: a call without room in flight is refused at once
  atLeast('reconnectAttempts', o.reconnectAttempts, 0);
  atLeast('silenceMs', o.silenceMs, 0);
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
