/**
 * The SDK's cancelAll and cancelMyOrders: CancelAll (or CancelClientOrders) rounds until the
 * engine says none remain.
 *
 * One round cancels a bounded number of orders (docs/PROTOCOL.md, "Cancel all"): its head
 * event, AllCanceled, counts them and names in `otherId` the order to go on from, 0 once none
 * remain. Each round is a command of its own (its own client seq, applied once), sent after
 * the previous one is answered, with that order as its `target`, and after the first, with the
 * first round's sequence as its bound (`aux`): it cancels the orders placed before the call's
 * first round, and stops at the first one placed after it (order ids are sequences).
 *
 *   round 1: AllCanceled(seq 900, otherId 812) OrderCanceled x 1024
 *   round 2 (target 812, aux 900) ──► ... ──► otherId 0
 *
 * No round cap. The bound makes the rounds finite by what the engine holds: no order placed
 * after the first round is looked at, and every round but the last cancels at least one of the
 * orders placed before it, or moves `otherId` on along them, or (its target canceled meanwhile
 * by another call, or filled) starts again from the oldest, which takes one of them away too.
 * (A cap of 1,024 rounds left an account's orders past 1,024 rounds resting; cancel on
 * disconnect's own cap went for the same reason.) A round that cancels none and names its own
 * target again would be an engine fault (a round looks at its target first): it ends the call,
 * with that round's head (`otherId` not 0) last among its heads.
 */
import { EventKind } from '../protocol/event-layout.js';
import type { EventRecord } from '../protocol/event-reader.js';

/**
 * Sends one round, from order `target` (0: the oldest), of the orders placed before sequence
 * `before` (0: no bound), and resolves with its events.
 */
export type SendRound = (target: number, before: number) => Promise<EventRecord[]>;

/**
 * Every round's events, in order: each round's head (AllCanceled, or Rejected for a refusal,
 * which ends it), then its OrderCanceled events. `from`: the first round's target.
 */
export async function cancelRounds(send: SendRound, from: number): Promise<EventRecord[]> {
  const all: EventRecord[] = [];
  let next = from;
  let before = 0;
  for (;;) {
    const events = await send(next, before);
    for (const e of events) all.push(e);
    const head = events[0];
    // A round resent after a reconnect may be answered as a Duplicate of its first outcome,
    // which does not say where it stopped: go on from the oldest order (never wrong). Its
    // otherId is the sequence of the first outcome's head.
    if (head.kind === EventKind.Duplicate && head.status === 0) {
      if (before === 0) before = head.otherId;
      next = 0;
      continue;
    }
    if (head.kind !== EventKind.AllCanceled || head.otherId === 0) return all;
    if (before === 0) before = head.sequence;
    if (head.quantity === 0 && head.otherId === next) return all; // no progress
    next = head.otherId;
  }
}
