/**
 * Welcome's body (docs/PROTOCOL.md, "Frames" and "Cancel on disconnect"). Fields are only
 * appended: a client reads what the frame holds and takes a field past its end as "not said",
 * so an older client reads a newer Welcome as it always did, and a newer client an older one.
 *
 *   0   u32  client id
 *   4   u32  idempotency window
 *   8   f64  the journal's durable sequence
 *   16  f64  the client's next seq (0: unknown)                 (a shorter Welcome: not said)
 *   24  u32  orders canceled: this client id's resting orders that this node's cancel on
 *            disconnect canceled since its last session here    (a shorter Welcome: not said)
 *   28  u16  cancel report (CancelReport)
 *   30  u16  reserved (0)
 *   32  f64  the sequence of the last of those cancels' rounds (its AllCanceled; 0: none)
 *
 * Without the report, a client logging in again could not tell "your session resumed, your
 * orders rest" from "your orders were canceled after your session was lost, or after the grace
 * of a node taking over ran out": both said only Welcome.
 */

/** Welcome's body as a server of this version writes it. */
export const welcomeBodyBytes = 40;
/** Where the cancel report starts in Welcome's body (a body shorter than that has none). */
export const welcomeCancelsAt = 24;
/** The bytes of a body that holds the next seq (servers from before the report). */
export const welcomeNextSeqBodyBytes = 24;

/** What the node says of this client id's orders and cancel on disconnect, at its login. */
export const enum CancelReport {
  /** This node canceled none of its orders since its last session here, and cancels none now. */
  None = 0,
  /** It canceled `orders` of them (0: it had none resting), in rounds that have ended. */
  Canceled = 1,
  /**
   * A chain of its cancels is under way (the loss was seen just before this login): `orders`
   * canceled so far, more may follow. Orders placed from this session on are not touched.
   */
  Canceling = 2,
  /**
   * It cannot tell: cancels may have happened that it did not see, or no longer remembers (it
   * took over from another member, or restarted, after the client id's last session here; or
   * it dropped the report, past cancelReportsMax). Not "none": read what rests (GET /orders).
   * Servers before 2026-12-06 said None then; a client that does not know 3 reads "no report".
   */
  Unknown = 3,
}

/** Welcome's report of cancels on disconnect, as written or read. */
export interface WelcomeCancels {
  report: CancelReport;
  /** Orders canceled (so far, while Canceling). */
  orders: number;
  /** The sequence of the last round's head event (AllCanceled); 0: none answered yet. */
  sequence: number;
}

/** Writes `cancels` into the Welcome body that starts at `body` of `view`. */
export function writeWelcomeCancels(view: DataView, body: number, cancels: WelcomeCancels): void {
  const at = body + welcomeCancelsAt;
  view.setUint32(at, Math.min(cancels.orders, 0xffff_ffff), true); // u32: at most
  view.setUint16(at + 4, cancels.report, true);
  view.setUint16(at + 6, 0, true);
  view.setFloat64(at + 8, cancels.sequence, true);
}

/**
 * The report of the Welcome frame `frame` (its header included), or null: a server from before
 * the report, or a report this client cannot read (a report value it does not know, which a
 * later server may send: the client then knows nothing either).
 */
export function readWelcomeCancels(frame: Buffer, headerBytes: number): WelcomeCancels | null {
  const at = headerBytes + welcomeCancelsAt;
  if (frame.byteLength < headerBytes + welcomeBodyBytes) return null;
  const report = frame.readUInt16LE(at + 4);
  const sequence = frame.readDoubleLE(at + 8);
  if (report > CancelReport.Unknown) return null;
  if (!Number.isSafeInteger(sequence) || sequence < 0) return null;
  return { report, orders: frame.readUInt32LE(at), sequence };
}
