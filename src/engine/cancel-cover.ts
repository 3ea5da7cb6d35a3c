/**
 * Deciding SetCancelOnDisconnect: the node's record, in the replicated state, of which clients
 * have a cancel-on-disconnect session (gateway/cancel-on-disconnect.ts).
 *
 *   gateway: a session with the flag opens  ──► SetCancelOnDisconnect(ref client, aux 1)
 *            the client closes it with 1000 ──► SetCancelOnDisconnect(ref client, aux 0)
 *   engine:  CancelOnDisconnectSet (head: ref client, aux 1 | 0) ──► Clients.covered[slot]
 *
 * A session's loss leaves the mark: the gateway that saw it cancels, and a client that comes
 * back with the flag finds it set; once those cancels are done and the client is not back, the
 * gateway unmarks it (aux 0). The mark is a field of the client's slot (idempotency.ts): it
 * takes no room of its own, and slots, never freed, are bounded by clientCountMax.
 *
 * The mark matters when the gateway that held the session is gone (a failover, a restart): the
 * node that takes commands next reads the marks and cancels the orders of each marked client
 * that does not log in again within the grace period.
 *
 * Only the node sends it (disconnectClientId): any other client id is CommandKindUnknown, as
 * to a server without it. A mark takes a slot in the client table for a client that has none
 * (its orders will name that slot), refused IdempotencyClientTableFull when none is left. An
 * unmark of a client with no slot is Ok and takes none: a slot is never freed, and an unmark
 * took one for a client that had never been marked (a login without the flag while the marks
 * were not known, a node's unmark of a client another node's state never saw), each a place
 * of clientCountMax gone for good, and a full table refused it.
 */
import { assert as assertImport } from '../stdx/assert.js';
import { Status } from '../protocol/status.js';
import { CommandWord } from '../protocol/command-layout.js';
import { EventKind, EventWord } from '../protocol/event-layout.js';
import {
  disconnectClientId,
  isNodeClientId as isNodeClientIdImport,
} from '../protocol/client-ids.js';
import type { Clients } from './idempotency.js';
import type { CommandCursor } from './cursor.js';
import type { Emitter } from './emitter.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const isNodeClientId: typeof isNodeClientIdImport = isNodeClientIdImport;

export class CancelCoverDecider {
  private readonly clients: Clients;
  private readonly cursor: CommandCursor;
  private readonly emitter: Emitter;

  constructor(clients: Clients, cursor: CommandCursor, emitter: Emitter) {
    this.clients = clients;
    this.cursor = cursor;
    this.emitter = emitter;
  }

  decide(): Status {
    const c = this.cursor;
    if (c.word(CommandWord.clientId) !== disconnectClientId) return Status.CommandKindUnknown;
    const client = c.word(CommandWord.ref);
    if (client === 0 || isNodeClientId(client)) return Status.CommandIdInvalid;
    const on = c.word(CommandWord.aux);
    if (c.word(CommandWord.aux + 1) !== 0 || on > 1) return Status.CommandIdInvalid;
    if (on === 1 && this.clients.wouldBeFull(client)) return Status.IdempotencyClientTableFull;
    // The node's own slot first, as a replica takes it: it records the head (its client's seq)
    // before it applies the mark. Taken after, a first mark of a new client put the two in
    // the other order on the primary, and the client's orders named another slot there.
    this.clients.slotFor(disconnectClientId);
    const e = this.emitter.begin(EventKind.CancelOnDisconnectSet, Status.Ok, 0, client);
    this.emitter.set(e, EventWord.aux, on);
    applyCoverSet(this.clients, this.emitter.u32, e);
    return Status.Ok;
  }
}

/** Applies a CancelOnDisconnectSet event (both paths: the primary's decide and a replica's). */
export function applyCoverSet(clients: Clients, u32: Uint32Array, e: number): void {
  const client = u32[e + EventWord.ref];
  const on = u32[e + EventWord.aux];
  assert(client !== 0, 'cover: the event names a client');
  assert(u32[e + EventWord.aux + 1] === 0, 'cover: aux is 0 or 1');
  // An unmark of a client with no slot: nothing to unmark, and no slot taken (decide's note).
  const slot = on === 1 ? clients.slotFor(client) : clients.slotOf(client);
  if (slot === -1) return;
  clients.setCovered(slot, on);
}
