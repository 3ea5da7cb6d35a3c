/**
 * Datagrams a member refuses because they are not what a member sends: counted by reason (for
 * /metrics), and told in the log at most once per `refusedLogMs`, with how many came since the
 * last line and where the last one came from. A flood of forged datagrams is one line every
 * few seconds, never a line per datagram (the log would become the attack); a single one is
 * told at once.
 *
 *   member   the header names no other member of the cluster file
 *   address  it names one, but did not come from that member's address and port
 *   mac      it came from there, but its MAC is not the cluster secret's (datagram-mac.ts):
 *            a member with another secret, or a forgery from the member's own address
 *   stale    a member made it, in a run before the one heard since (replay-window.ts): sent
 *            again by someone who recorded it
 */
import { refusedLogMs } from '../constants.js';

export type RefusalReason = 'member' | 'address' | 'mac' | 'stale';
export const refusalReasons: readonly RefusalReason[] = ['member', 'address', 'mac', 'stale'];

export class Refusals {
  /** Datagrams refused, by reason, since the transport started (they only grow). */
  readonly total: Record<RefusalReason, number> = { member: 0, address: 0, mac: 0, stale: 0 };
  /** Refused since the last line. */
  private untold = 0;
  private toldAt = -Infinity;

  /**
   * `tell(line)`: says the line (a warning: someone sends what no member sends). `where(id)`:
   * member `id`'s address and port, as the cluster file gives them.
   */
  constructor(
    private readonly tell: (line: string) => void,
    private readonly where: (id: number) => string,
  ) {}

  /**
   * One refused datagram: from `address`:`port`, naming member `from`. Counted; nothing is
   * built unless told (a flood of them costs no allocation of ours).
   */
  note(reason: RefusalReason, from: number, address: string, port: number): void {
    this.total[reason]++;
    this.untold++;
    const now = performance.now();
    if (now - this.toldAt < refusedLogMs) return;
    const seconds = Number.isFinite(this.toldAt) ? (now - this.toldAt) / 1000 : 0;
    const since = seconds > 0 ? ` in ${seconds.toFixed(0)} s` : '';
    this.tell(
      `refused ${this.untold} replication datagram(s)${since}; the last named member ${from} ` +
        `and came from ${address}:${port} (${this.why(reason, from)})`,
    );
    this.toldAt = now;
    this.untold = 0;
  }

  private why(reason: RefusalReason, from: number): string {
    if (reason === 'member') return `no other member of the cluster file has id ${from}`;
    if (reason === 'address') return `member ${from} is at ${this.where(from)}`;
    if (reason === 'stale') {
      return (
        `made by member ${from} in a run before the one heard since: sent again by someone ` +
        `who recorded it (or member ${from} lost its folder and restarted with its clock set back)`
      );
    }
    return "its MAC does not match this member's replication secret: another secret, or forged";
  }
}
