/**
 * What cancel on disconnect did to each client's orders since its last session on this node,
 * for its next Welcome (protocol/welcome.ts, docs/PROTOCOL.md "Cancel on disconnect"):
 *
 *   a chain starts (a loss seen here,      ──► begin: the report is under way
 *     or the grace after taking over ended)
 *   a round's AllCanceled is durable        ──► round: its orders counted, its sequence kept
 *   the chain ends                          ──► ended: Canceled
 *   the client logs in (a command session)  ──► take: into its Welcome, and gone (a chain
 *                                               still under way starts a new report at 0)
 *
 * Kept in memory, on the node that runs the chains: a node that restarts, or a member that
 * takes over after its predecessor canceled a client's orders, knows nothing of those, and
 * says Canceled of the chains its own grace starts. Bounded by cancelReportsMax: past it the
 * oldest ended report goes.
 *
 * No report is None only when the node saw all there was to see: Unknown when its report was
 * dropped, or when the node took over a state with a past (a restart, a standby promoted) and
 * the client id, which has commands in that past, has not logged in here since. (Both said
 * None before: a client told "nothing canceled" whose quotes were gone.)
 *
 *   take(client): a report           ──► it (Canceled, Canceling)
 *                 its report dropped ──► Unknown
 *                 watched here since the node took over, or no past to miss ──► None
 *                 else               ──► Unknown
 */
import { cancelReportsMax } from '../constants.js';
import { BoundedIds } from './bounded-ids.js';
import { EndedOrder } from './ended-order.js';
import { assert } from '../stdx/assert.js';
import { CancelReport, type WelcomeCancels } from '../protocol/welcome.js';

interface Report {
  readonly client: number;
  /** Reports made before this one (the Map's insertion order: which ended one goes first). */
  readonly made: number;
  /** Its place in `endedOrder` (-1: under way). */
  at: number;
  orders: number;
  sequence: number;
  underWay: boolean;
}

/** Welcome's report when there is nothing to say (and for a read-only session). */
export const noCancels: Readonly<WelcomeCancels> = Object.freeze({
  report: CancelReport.None,
  orders: 0,
  sequence: 0,
});

/** Welcome's report when the node cannot tell: the client should read what rests. */
export const unknownCancels: Readonly<WelcomeCancels> = Object.freeze({
  report: CancelReport.Unknown,
  orders: 0,
  sequence: 0,
});

export class CancelReports {
  /** By client id, oldest first. */
  private readonly byClient = new Map<number, Report>();
  /** The reports not under way, the first made on top: dropped when full (ended-order.ts). */
  private readonly endedOrder: EndedOrder<Report>;
  /** Reports made (each one's `made`). */
  private madeCount = 0;
  /** Ended reports dropped at `max` (only grows). */
  dropped = 0;
  /**
   * Client ids logged in since the node took over: each loss of theirs since, this node saw.
   * At most `max` (the oldest goes: Unknown then, if there is a past).
   */
  private readonly watched: BoundedIds;
  /** Client ids whose report was dropped, until they log in (at most `max`). */
  private readonly droppedIds: BoundedIds;
  /** Cancels this node did not see may have been made: a past taken over, or drops forgotten. */
  private pastUnseen = false;

  /** `max`: reports kept, cancelReportsMax (tests pass less). */
  constructor(private readonly max = cancelReportsMax) {
    assert(Number.isSafeInteger(max) && max > 0, 'cancel reports: room for one at least');
    this.watched = new BoundedIds(max);
    this.droppedIds = new BoundedIds(max);
    this.endedOrder = new EndedOrder<Report>(max);
  }

  /**
   * The node starts taking commands, on a state with a past (`past`: its journal holds events):
   * what the member before it, or the node before its restart, canceled is not known here.
   */
  tookOver(past: boolean): void {
    this.watched.clear();
    this.pastUnseen ||= past; // drops forgotten (forgot) stay unseen
  }

  /** A chain for `client` starts (or starts again, after another loss). */
  begin(client: number): void {
    const report = this.byClient.get(client);
    if (report !== undefined) {
      if (!report.underWay) this.endedOrder.remove(report);
      report.underWay = true;
      return;
    }
    if (this.byClient.size >= this.max) this.dropOldestEnded();
    const made = this.madeCount++;
    this.byClient.set(client, { client, made, at: -1, orders: 0, sequence: 0, underWay: true });
  }

  /** A round of `client`'s chain canceled `orders`; its head event is at `sequence`. */
  round(client: number, orders: number, sequence: number): void {
    assert(Number.isSafeInteger(orders), 'cancel reports: a round cancels whole orders');
    assert(sequence > 0, 'cancel reports: a round is sequenced');
    const report = this.byClient.get(client);
    if (report === undefined) return; // taken by a login, and its chain dropped since
    report.orders += orders;
    report.sequence = sequence;
  }

  /** `client`'s chain ended (done, refused, or dropped: the report says what it canceled). */
  ended(client: number): void {
    const report = this.byClient.get(client);
    if (report === undefined || !report.underWay) return;
    report.underWay = false;
    this.endedOrder.push(report);
  }

  /**
   * What Welcome tells a command session of `client`: the report, now given (a login is told
   * once). A chain under way goes on reporting from 0, for the login after this one. `history`:
   * the client id has commands in the state, or it is not known (with none, it has no orders).
   */
  take(client: number, history = true): Readonly<WelcomeCancels> {
    const unseen = this.droppedIds.has(client) || (this.pastUnseen && !this.watched.has(client));
    this.watch(client);
    const report = this.byClient.get(client);
    if (report === undefined) return unseen && history ? unknownCancels : noCancels;
    const told: WelcomeCancels = {
      report: report.underWay ? CancelReport.Canceling : CancelReport.Canceled,
      orders: report.orders,
      sequence: report.sequence,
    };
    if (report.underWay) {
      report.orders = 0;
      report.sequence = 0;
    } else {
      this.endedOrder.remove(report);
      this.byClient.delete(client);
    }
    return told;
  }

  /** Reports kept (tests, metrics). */
  size(): number {
    return this.byClient.size;
  }

  /** Places the last drop (or end, begin, take) visited in the heap of ended reports (tests). */
  get dropWork(): number {
    return this.endedOrder.work;
  }

  /** `client` logged in: from now on each loss of its is seen here. */
  private watch(client: number): void {
    this.droppedIds.delete(client);
    this.watched.add(client);
  }

  private dropOldestEnded(): void {
    // Under way: at most cancelOnDisconnectPendingMax, fewer than cancelReportsMax (asserted).
    assert(this.endedOrder.size() > 0, 'cancel reports: an ended report to drop');
    const oldest = this.endedOrder.pop();
    assert(!oldest.underWay, 'cancel reports: the report dropped has ended');
    this.byClient.delete(oldest.client);
    this.dropped++;
    this.forgot(oldest.client);
  }

  /** `client`'s report was dropped: its next login is told Unknown. */
  private forgot(client: number): void {
    this.watched.delete(client);
    // One forgotten past the bound is not watched either: Unknown for it, as with a past.
    if (this.droppedIds.add(client) !== 0) this.pastUnseen = true;
  }
}
