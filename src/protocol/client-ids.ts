/**
 * Client ids: a customer's, 1 to clientIdMax, and the node's own, the last nodeClientIdCount
 * values of the wire's 32 bits. A client under one of the node's would share its idempotency
 * window (its seq 1 answered as a repeat of term 1's Tick, or its seqs refused as out of order
 * behind the timer's), so logins and HTTP refuse them.
 *   disconnectClientId  the gateway's CancelAll rounds for lost sessions that asked to cancel
 *                       on disconnect (gateway/cancel-on-disconnect.ts)
 *   timerClientId       the Ticks that expire due pending transfers (pipeline/expiry-ticker.ts)
 *   reservedClientId    the cluster's: the Tick that opens a term, numbered by term
 * The engine's client table keeps a slot for each of the node's ids beyond the customers'
 * clientCountMax (engine/idempotency.ts): the node's commands are never refused for a full table.
 */
import { nodeClientIdCount } from '../constants.js';

export const clientIdMax = 0xffff_ffff - nodeClientIdCount;
export const disconnectClientId = 0xffff_fffd;
export const timerClientId = 0xffff_fffe;
export const reservedClientId = 0xffff_ffff;

/** Whether `value` is a client id (a whole number from 1 to clientIdMax). */
export function isClientId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= clientIdMax;
}

/** Whether `clientId` (a command's u32 word) is one of the node's own. */
export function isNodeClientId(clientId: number): boolean {
  return clientId > clientIdMax;
}
