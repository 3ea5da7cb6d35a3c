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
 * takes over after its predecessor canceled a client's orders, knows nothing of those (None),
 * and says Canceled of the chains its own grace starts. Bounded by cancelReportsMax: past it
 * the oldest ended report goes (its client's Welcome says None).
 */
import { cancelReportsMax } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { CancelReport, type WelcomeCancels } from '../protocol/welcome.js';

interface Report {
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

export class CancelReports {
  /** By client id, oldest first (Map order: the first ended one is dropped when full). */
  private readonly byClient = new Map<number, Report>();
  /** Ended reports dropped at cancelReportsMax (only grows). */
  dropped = 0;

  /** A chain for `client` starts (or starts again, after another loss). */
  begin(client: number): void {
    const report = this.byClient.get(client);
    if (report !== undefined) {
      report.underWay = true;
      return;
    }
    if (this.byClient.size >= cancelReportsMax) this.dropOldestEnded();
    this.byClient.set(client, { orders: 0, sequence: 0, underWay: true });
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
    if (report !== undefined) report.underWay = false;
  }

  /**
   * What Welcome tells a command session of `client`: the report, now given (a login is told
   * once). A chain under way goes on reporting from 0, for the login after this one.
   */
  take(client: number): Readonly<WelcomeCancels> {
    const report = this.byClient.get(client);
    if (report === undefined) return noCancels;
    const told: WelcomeCancels = {
      report: report.underWay ? CancelReport.Canceling : CancelReport.Canceled,
      orders: report.orders,
      sequence: report.sequence,
    };
    if (report.underWay) {
      report.orders = 0;
      report.sequence = 0;
    } else {
      this.byClient.delete(client);
    }
    return told;
  }

  /** Reports kept (tests, metrics). */
  size(): number {
    return this.byClient.size;
  }

  private dropOldestEnded(): void {
    // Under way: at most cancelOnDisconnectPendingMax, fewer than cancelReportsMax (asserted).
    for (const [client, report] of this.byClient) {
      if (report.underWay) continue;
      this.byClient.delete(client);
      this.dropped++;
      return;
    }
    assert(false, 'cancel reports: an ended report to drop');
  }
}
