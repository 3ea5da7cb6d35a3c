/**
 * The client's connection state, and `onState`, which hears it change. A market maker must stop
 * quoting the moment its connection is cut, not after the SDK is back (onReconnect) or by
 * polling `lastDrop`; and it must know when the SDK gave up, and what became of its resting
 * orders on the server (docs/PROTOCOL.md, "Cancel on disconnect").
 *
 *   connect() ──► connecting ──► open ──► reconnecting ──► open ──► ...
 *                     │           │            │
 *                     └───────────┴────────────┴──► closed   (once; nothing after it)
 *
 * Each transition is told once, in this order, from the socket's own events: `reconnecting` at
 * the drop (before any attempt), `open` once a session is open again (its unanswered commands
 * sent again, its subscriptions asked for again, before onReconnect), `closed` when the SDK gave
 * up, the server closed the session for a reason, or close() was called (told by close() itself,
 * before it returns). A callback that throws is reported as a process warning; the client goes
 * on. A callback may call close(): its `closed` is told from inside it.
 */
import { assert } from '../stdx/assert.js';
import { callHandler } from './handler-calls.js';
import { ClientError, memberUrls, openFirstSession, type ConnectOptions } from './session.js';
import { CancelReport, type WelcomeCancels } from '../protocol/welcome.js';

export type ConnectionStateName = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * What the server does with the resting orders that cancel on disconnect covers: those the
 * client id placed (on any account; not another client's on the same account):
 * - 'kept': they stay on the book. The session did not ask for cancel on disconnect, or its close
 *   is not a loss: the client's close() (1000), the node stopping or a deposed primary stepping
 *   down (1001). The next session of the client id with the flag covers them from its start;
 *   after a 1001, it must log in within the node's grace (--cancel-on-disconnect-grace-ms, 5 s
 *   by default) of a node taking commands again, or they go.
 * - 'canceled': the server closed the session for a reason (4000-4999): a loss, it cancels them.
 * - 'unknown': the connection dropped (1006: reset, cut off, or silent and dropped by the SDK),
 *   or 1011 (a node failing cancels nothing; a journal stream's failure on a running node
 *   does). A node that is up cancels them once it sees the loss; after a crash or a failover,
 *   the node that takes commands next does so its grace on, unless the client id logged in
 *   again by then (the SDK's reconnect: they are kept). Treat them as gone; cancelMyOrders()
 *   before quoting again.
 */
export type OrdersFate = 'kept' | 'canceled' | 'unknown';

/**
 * What the node said, as the session opened (its Welcome), of this client id's resting orders
 * that its cancel on disconnect canceled since the client id's last session on that node:
 * - 'none': none was canceled since the client id's last session: the node watched it since
 *   then, or the client id never sent a command (it has no orders). After a close of the last
 *   session that kept them (`orders` 'kept'), they rest still.
 * - 'canceled': it canceled `orders` of them (0: none were resting) after the last session was
 *   lost, or when the node's grace after taking over ran out before this login; `sequence` is
 *   the last round's head event (an AllCanceled under disconnectClientId, in the journal and
 *   the account streams with its OrderCanceled events).
 * - 'canceling': the loss was seen just before this login, and the rounds are still under way:
 *   `orders` canceled so far (0 if none answered yet), more may follow; the orders placed
 *   before the loss will all go, those placed from this session on stay. The next login says
 *   the rest.
 * - 'unknown': the node cannot tell; not 'none': orders may have been canceled. Read what rests
 *   (`GET /orders?account=A`, or the account stream from before the loss) before quoting
 *   again. The node took over from another member (a failover) or restarted after the client
 *   id's last session on it, so cancels before are not its to know; or it dropped the report
 *   (more than cancelReportsMax, 131,072, kept); or a server from before the report (2026-12)
 *   says nothing. (Until 2026-12-06 the node said 'none' in the first two cases.)
 */
export type CanceledState = 'none' | 'canceled' | 'canceling' | 'unknown';

export interface CanceledOrders {
  readonly state: CanceledState;
  /** Orders canceled (so far, while 'canceling'); 0 for 'none' and 'unknown'. */
  readonly orders: number;
  /** The sequence of the last round's AllCanceled (0: none yet, 'none', 'unknown'). */
  readonly sequence: number;
}

export interface ConnectionState {
  readonly state: ConnectionStateName;
  /**
   * connecting: connect's url. open: the member the session is on. reconnecting: the member
   * whose connection ended. closed: the member it was on last (connect's url if none opened).
   */
  readonly url: string;
  /**
   * reconnecting: the close code of the drop (ClientErrorCode: 1006 lost, 1001 the node
   * stopping, 1011 failed). closed: the code calls are now refused with (1000: close(); the
   * drop's after giving up; 4000-4999: the server closed the session; a failed connect's
   * ClientError code, else 1006). 0 for connecting and open.
   */
  readonly code: number;
  /** Why, in words ('' for connecting and open). */
  readonly reason: string;
  /** Whether the session asked for cancel on disconnect (the server took it, or connect failed). */
  readonly cancelOnDisconnect: boolean;
  /** reconnecting, closed: what the server does with the last session's resting orders. */
  readonly orders: OrdersFate | null;
  /** Times the session was opened again after a drop, so far. */
  readonly reconnects: number;
  /** open: what the node canceled of the orders since the last session (null otherwise). */
  readonly canceled: CanceledOrders | null;
}

export type OnState = (state: ConnectionState) => void;

/** The next states each state may go to. */
const next: Record<ConnectionStateName, readonly ConnectionStateName[]> = {
  connecting: ['open', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['open', 'closed'],
  closed: [],
};

export class ConnectionStates {
  /** The state now (a new object each transition: one told to onState is never changed). */
  now: ConnectionState;

  constructor(
    url: string,
    private readonly cancelOnDisconnect: boolean,
    private readonly onState: OnState | undefined,
  ) {
    this.now = this.state('connecting', url, 0, '', null, 0, null);
    this.tell();
  }

  /**
   * A session is open on `url` (connect's, or a reconnect's), its Welcome reporting `cancels`;
   * then `onReconnect`, the caller's handler of a reconnect, is called (a throw there is a
   * warning too).
   */
  opened(
    url: string,
    reconnects: number,
    onReconnect?: () => void,
    cancels: WelcomeCancels | null = null,
  ): void {
    this.to(this.state('open', url, 0, '', null, reconnects, canceledOf(cancels)));
    // Not when onState closed the client: nothing is told after close().
    if (onReconnect !== undefined && this.now.state === 'open') {
      callHandler('onReconnect', onReconnect, undefined, url);
    }
  }

  /** The connection to `url` dropped; the SDK looks for the session again. */
  lost(url: string, code: number, reason: string): void {
    const orders = ordersFate(this.cancelOnDisconnect, code);
    this.to(this.state('reconnecting', url, code, reason, orders, this.now.reconnects, null));
  }

  /**
   * Closed for good with `code` (`ours`: by close()). Told once: later calls, as the socket's
   * close after close() or a reconnect that ends after it, say nothing.
   */
  closed(code: number, reason: string, ours: boolean): void {
    if (this.now.state === 'closed') return;
    const was = this.now;
    // While reconnecting, no session is open: the drop decided the orders' fate.
    let orders = was.orders;
    if (was.state === 'open') orders = ours ? 'kept' : ordersFate(this.cancelOnDisconnect, code);
    let why = reason;
    if (was.state === 'reconnecting' && !ours) why = `gave up reconnecting (${reason})`;
    this.to(this.state('closed', was.url, code, why, orders, was.reconnects, null));
  }

  private to(state: ConnectionState): void {
    assert(next[this.now.state].includes(state.state), 'connection state: a transition allowed');
    this.now = state;
    this.tell();
  }

  private tell(): void {
    const onState = this.onState;
    const state = this.now;
    if (onState !== undefined) callHandler('onState', onState, state, `'${state.state}'`);
  }

  private state(
    state: ConnectionStateName,
    url: string,
    code: number,
    reason: string,
    orders: OrdersFate | null,
    reconnects: number,
    canceled: CanceledOrders | null,
  ): ConnectionState {
    const cancelOnDisconnect = this.cancelOnDisconnect;
    const fields = { state, url, code, reason, cancelOnDisconnect, orders, reconnects, canceled };
    return Object.freeze(fields);
  }
}

const canceledNames: Record<CancelReport, CanceledState> = {
  [CancelReport.None]: 'none',
  [CancelReport.Canceled]: 'canceled',
  [CancelReport.Canceling]: 'canceling',
  [CancelReport.Unknown]: 'unknown',
};

/** Welcome's report as the SDK tells it (null: a server from before it, 'unknown'). */
export function canceledOf(cancels: WelcomeCancels | null): CanceledOrders {
  if (cancels === null) return Object.freeze({ state: 'unknown', orders: 0, sequence: 0 });
  const { orders, sequence } = cancels;
  return Object.freeze({ state: canceledNames[cancels.report], orders, sequence });
}

/** What the server does with a session's orders when its connection closes with `code`. */
export function ordersFate(cancelOnDisconnect: boolean, code: number): OrdersFate {
  if (!cancelOnDisconnect || code === 1000 || code === 1001) return 'kept';
  if (code >= 4000 && code <= 4999) return 'canceled';
  return 'unknown';
}

/**
 * connect's first session, told to onState: `connecting` first, then (the caller tells `open`
 * once its client is set up) or `closed` with why it failed, and the failure thrown.
 */
export async function openTold(
  url: string,
  options: ConnectOptions,
): Promise<Awaited<ReturnType<typeof openFirstSession>> & { states: ConnectionStates }> {
  const states = new ConnectionStates(url, options.cancelOnDisconnect === true, options.onState);
  try {
    return { ...(await openFirstSession(memberUrls(url, options), options)), states };
  } catch (error) {
    const code = error instanceof ClientError ? error.code : 1006;
    states.closed(code, (error as Error).message, false);
    throw error;
  }
}
