/**
 * The SDK's cancelAll: CancelAll rounds until the engine says none remain.
 *
 * One CancelAll cancels a bounded number of orders (docs/PROTOCOL.md, "Cancel all"): its head
 * event, AllCanceled, counts them and names in `otherId` the order to go on from, 0 once none
 * remain. Each round is a command of its own (its own client seq, applied once), sent after
 * the previous one is answered, with that order as its `next`.
 *
 *   round 1: AllCanceled(otherId 812) OrderCanceled x 1024 ──► round 2 (next 812) ──► ... 0
 */
import { sdkCancelAllRoundsMax } from '../constants.js';
import { EventKind } from '../protocol/event-layout.js';
import type { EventRecord } from '../protocol/event-reader.js';
import type { CancelAllArgs } from '../protocol/named-commands.js';

/** Sends one CancelAll (a named command) and resolves with its events. */
export type SendCancelAll = (args: CancelAllArgs) => Promise<EventRecord[]>;

/**
 * Every round's events, in order: each round's head (AllCanceled, or Rejected for a refusal,
 * which ends it), then its OrderCanceled events. Stops after sdkCancelAllRoundsMax rounds: the
 * last AllCanceled's `otherId` is then not 0, and the caller may call again.
 */
export async function cancelAllRounds(
  send: SendCancelAll,
  args: CancelAllArgs,
): Promise<EventRecord[]> {
  const all: EventRecord[] = [];
  let next = args?.next ?? 0;
  for (let round = 0; round < sdkCancelAllRoundsMax; round++) {
    const events = await send({ ...args, next });
    for (const e of events) all.push(e);
    const head = events[0];
    // A round resent after a reconnect may be answered as a Duplicate of its first outcome,
    // which does not say where it stopped: go on from the oldest order (never wrong).
    if (head.kind === EventKind.Duplicate && head.status === 0) next = 0;
    else if (head.kind === EventKind.AllCanceled && head.otherId !== 0) next = head.otherId;
    else return all;
  }
  return all;
}
