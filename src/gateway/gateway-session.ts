/**
 * A WebSocket session's own fields (uWS's user data): what its login, subscriptions, cancel on
 * disconnect and client id's holder keep, and the gateway's own.
 */
import type { Grant, KeyRing } from './api-keys.js';
import type { CancelFields } from './cancel-on-disconnect.js';
import type { LoginFields } from './login.js';
import type { ResultRanges } from './result-ranges.js';
import type { SubscriptionFields } from './session-subscriptions.js';
import { newHolderFields, type HolderFields } from './silent-holder.js';

export interface Session extends LoginFields, SubscriptionFields, CancelFields, HolderFields {
  grant: Grant | null;
  /**
   * Request ids of the frames refused as Busy, oldest first. Until they come again, in this
   * order, every other frame is refused too, so that a client's commands still reach the
   * engine in the order it sent them.
   */
  refused: number[];
  /** The first client seq of each refused frame, beside `refused` (0: none valid). */
  refusedSeqs: number[];
  /** Opened on the read path: subscriptions only, on any member (a standby included). */
  readOnly: boolean;
  /** Its ResultsOnly frames still to be answered (made at the first such frame). */
  results: ResultRanges | null;
}

/** Why a session whose grant no longer holds is closed. */
export function keyClosing(keys: KeyRing, keyId: string | null): string {
  if (keyId === null) return 'API keys now required';
  return keys.has(keyId) ? 'API key changed' : 'API key revoked';
}

/** A session not logged in yet. */
export function newSession(readOnly: boolean): Session {
  return {
    clientId: 0,
    grant: null,
    refused: [],
    refusedSeqs: [],
    challenge: null,
    helloFlags: 0,
    cancelOnDisconnect: false,
    readOnly,
    results: null,
    subscriptions: 0,
    accounts: [],
    markets: [],
    ...newHolderFields(),
  };
}
