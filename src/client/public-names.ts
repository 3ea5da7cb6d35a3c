/**
 * The names the SDK exports besides BourseClient (client.ts re-exports them all): its errors and
 * their codes, the protocol's kinds, flags and status codes as values, and the types of calls,
 * answers and connection states. Kept apart so that client.ts holds the client only.
 */
export type { EventRecord } from '../protocol/event-reader.js';
export { ClientError, type ConnectOptions } from './session.js';
export { BatchCutOff } from './batch-parts.js';
export type { BatchResult } from './batches.js';
export type { OnStatus } from './handler-calls.js';
export type * from '../protocol/named-commands.js';
export type { BookLevel, BookView } from '../protocol/book-frame.js';
export type { StreamGap } from './subscriptions.js';
export { statusName } from '../protocol/status.js';
/** Command and event kinds and status codes as values (the generated FlatBuffers enums). */
export { CommandKind } from '../protocol/generated/bourse/protocol/command-kind.js';
export { EventKind } from '../protocol/generated/bourse/protocol/event-kind.js';
export { Status } from '../protocol/generated/bourse/protocol/status.js';
/** Bits of an event's `flags` (Head, Record, Sell: the taker sold, ...), and its tif and stp. */
export { EventFlag } from '../protocol/generated/bourse/protocol/event-flag.js';
/** Bits of a command's `flags` (Sell, Market, PostOnly, Linked), for `submit` and `submitBatch`. */
export { CommandFlag } from '../protocol/generated/bourse/protocol/command-flag.js';
export { TimeInForce } from '../protocol/generated/bourse/protocol/time-in-force.js';
export {
  SelfTradePrevention, // the engine's self-trade rule of an order
} from '../protocol/generated/bourse/protocol/self-trade-prevention.js';
export { commandKindName, eventKindName, formatEvent } from '../protocol/event-reader.js';
/** The protocol's fields of a command (`submit`, `submitBatch`): commands.fbs names them. */
export type { CommandBody } from '../protocol/command-writer.js';
export { ClientErrorCode } from './error-codes.js';
/**
 * The node's own client ids, as events carry them: an OrderCanceled under disconnectClientId
 * is cancel on disconnect's, a Tick under timerClientId expired holds, reservedClientId's
 * Ticks open a cluster term. No session may log in as one (4006).
 */
export { disconnectClientId, timerClientId, reservedClientId } from '../protocol/client-ids.js';
export type * from './connection-state.js';
