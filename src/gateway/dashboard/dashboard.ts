/**
 * A live dashboard served by the node itself (docs/PROTOCOL.md, "Dashboard"):
 *
 *   GET /dashboard            the page (HTML and CSS)            dashboard-page.ts
 *   GET /dashboard/app.js     its script (plain JS, no library)  dashboard-script.ts
 *   WS  /dashboard/live       ──► a JSON snapshot every dashboardTickMs: role, term, members
 *                                 and their lag, commands/s (null where the node takes
 *                                 none: a standby), events/s (durable here), result latency
 *                                 percentiles, the chosen instrument's best levels
 *                             ──► the instrument's trades as they happen: binary Events
 *                                 frames, the very frames of stream 2 (the trades topic)
 *                             ◄── {"instrument": N} to choose another instrument
 *
 * The page is compiled into the package as strings: plain tsc does not copy .html files to
 * dist/, and a file read at run time from the source tree would be missing wherever only dist/
 * is shipped. JSON is fine here: about one message a second per page, off the hot path.
 * Nothing runs while no page is open: the timer starts with the first viewer and stops with
 * the last, and the result meter is off.
 */
import {
  dashboardBackpressureMaxBytes,
  dashboardBookLevels,
  dashboardMessageBytesMax,
  dashboardRequestBytesMax,
  dashboardTickMs,
  dashboardViewersMax,
  dashboardViewersPerAddressMax,
  sessionIdleTimeoutSeconds,
} from '../../constants.js';
import { assert } from '../../stdx/assert.js';
import type { DurableEvents, NodeRole } from '../gateway.js';
import { health, json, route, type JournalQueries } from '../http.js';
import { remoteAddress } from '../admission.js';
import type { StateReads } from '../reads.js';
import type { PageTrades } from '../session-subscriptions.js';
import { uws, type HttpResponse, type TemplatedApp, type WebSocket } from '../uws.js';
import { membersOf } from './members.js';
import { dashboardHtml } from './dashboard-page.js';
import { dashboardScript } from './dashboard-script.js';
import { ResultMeter } from './result-meter.js';

/** One open page: the instrument it shows, and the address it came from. */
export interface Viewer {
  instrument: number;
  address: string;
}

export interface DashboardSources {
  role: NodeRole;
  journal: JournalQueries;
  /** The read model, for books (null: no books). */
  reads: StateReads | null;
  /** Durable events, for the result meter. */
  events: DurableEvents;
  /** Subscribes a page to an instrument's trades topic, as stream 2 does, and off it. */
  trades: PageTrades;
}

/** The instrument a page shows when it names none. */
const instrumentDefault = 1;

export class Dashboard {
  private readonly viewers = new Set<WebSocket<Viewer>>();
  /** Pages open by remote address (an address with none is absent). */
  private readonly byAddress = new Map<string, number>();
  private readonly meter = new ResultMeter();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** A tick's reads are still running (the next tick is skipped, not queued). */
  private ticking = false;
  private lastAtMs = 0;
  private lastEvents = 0;
  private lastCommands = 0;

  constructor(
    app: TemplatedApp,
    private readonly sources: DashboardSources,
  ) {
    sources.events.listen((records, slot, count) => this.meter.onDurable(records, slot, count));
    // Through route(), as every other GET: HEAD too (health checkers use it; it was 404), and
    // 405 for other methods.
    route(app, 'get', '/dashboard', (res) => asset(res, 'text/html; charset=utf-8', dashboardHtml));
    route(app, 'get', '/dashboard/app.js', (res) => {
      asset(res, 'text/javascript; charset=utf-8', dashboardScript);
    });
    app.ws<Viewer>('/dashboard/live', {
      maxPayloadLength: dashboardRequestBytesMax,
      maxBackpressure: dashboardBackpressureMaxBytes,
      // A page that reads too slowly misses snapshots and trades (uWS drops them): it is a
      // view, not a feed, and it catches up with the next snapshot.
      closeOnBackpressureLimit: 0,
      idleTimeout: sessionIdleTimeoutSeconds,
      sendPingsAutomatically: true,
      compression: uws().DISABLED,
      upgrade: (res, req, context) => {
        const address = remoteAddress(res);
        const full = this.refusal(address);
        if (full !== null) return json(res, '503 Service Unavailable', { error: full });
        const asked = req.getQuery('instrument') ?? '';
        const instrument = asked === '' ? instrumentDefault : this.instrumentOf(Number(asked));
        res.upgrade<Viewer>(
          { instrument: instrument ?? instrumentDefault, address },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => this.onOpen(ws),
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      close: (ws) => this.onClose(ws),
    });
  }

  /** Pages open now. */
  viewerCount(): number {
    return this.viewers.size;
  }

  /** Closes every page and stops the timer (the node is stopping). */
  close(): void {
    const open = [...this.viewers];
    for (const ws of open) this.sources.trades.leave(ws, ws.getUserData().instrument, false);
    this.viewers.clear();
    this.byAddress.clear();
    this.stopTimer();
    for (const ws of open) ws.end(1001, 'server shutting down');
  }

  /** Why a page from `address` is refused now, or null. */
  private refusal(address: string): string | null {
    if (this.viewers.size >= dashboardViewersMax) return 'too many dashboard pages';
    const held = this.byAddress.get(address) ?? 0;
    return held >= dashboardViewersPerAddressMax
      ? 'too many dashboard pages from this address'
      : null;
  }

  private onOpen(ws: WebSocket<Viewer>): void {
    // Pages upgraded together may pass the check in upgrade(): this one is the bound.
    const address = ws.getUserData().address;
    if (this.refusal(address) !== null) return ws.end(1013, 'too many pages');
    this.viewers.add(ws);
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    this.sources.trades.join(ws, ws.getUserData().instrument);
    if (this.timer !== null) return;
    this.meter.take(); // start from now
    this.meter.on = true;
    this.lastAtMs = performance.now();
    this.lastEvents = this.sources.journal.eventsDurable();
    this.lastCommands = this.sources.journal.commandsProcessed();
    this.timer = setInterval(() => void this.tick(), dashboardTickMs);
  }

  private onClose(ws: WebSocket<Viewer>): void {
    if (!this.viewers.delete(ws)) return; // refused at open, or closed by close()
    this.sources.trades.leave(ws, ws.getUserData().instrument, true);
    const address = ws.getUserData().address;
    const held = this.byAddress.get(address) ?? 0;
    if (held <= 1) this.byAddress.delete(address);
    else this.byAddress.set(address, held - 1);
    if (this.viewers.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.meter.on = false;
  }

  /** A page chose another instrument: `{"instrument": N}`. */
  private onMessage(ws: WebSocket<Viewer>, message: ArrayBuffer, isBinary: boolean): void {
    let instrument: number | null = null;
    if (!isBinary) {
      try {
        const asked = JSON.parse(Buffer.from(message).toString('utf8')) as Record<string, unknown>;
        instrument = this.instrumentOf(asked?.instrument);
      } catch {
        instrument = null; // not JSON
      }
    }
    if (instrument === null) {
      const error = `instrument: an id from 1 to ${this.instrumentMax()}`;
      ws.send(JSON.stringify({ type: 'error', error }), false);
      return;
    }
    const viewer = ws.getUserData();
    this.sources.trades.leave(ws, viewer.instrument, false);
    viewer.instrument = instrument;
    this.sources.trades.join(ws, instrument);
  }

  private instrumentMax(): number {
    return this.sources.reads === null ? 0xffffffff : this.sources.reads.instrumentCountMax - 1;
  }

  /** An instrument id a page may ask for, or null. */
  private instrumentOf(value: unknown): number | null {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return null;
    return value >= 1 && value <= this.instrumentMax() ? value : null;
  }

  /** Sends each page its snapshot. Reads run while the node goes on; pages may close meanwhile. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const common = await this.common();
      const books = await this.books();
      for (const ws of this.viewers) {
        const instrument = ws.getUserData().instrument;
        const book = books.get(instrument) ?? { book: null, bookError: 'no read model' };
        const text = JSON.stringify({ type: 'snapshot', ...common, instrument, ...book });
        assert(
          Buffer.byteLength(text) <= dashboardMessageBytesMax,
          'dashboard: snapshot too large',
        );
        ws.send(text, false);
      }
    } finally {
      this.ticking = false;
    }
  }

  /** What every page gets: health, members, rates and latency since the last tick. */
  private async common(): Promise<Record<string, unknown>> {
    const { role, journal } = this.sources;
    const nowMs = performance.now();
    const seconds = Math.max(nowMs - this.lastAtMs, 1) / 1000;
    // Events made durable (on a standby, stored). Not the sequence's advance: a sequence
    // numbers a command, whose events (an order and its trades) share it.
    const events = journal.eventsDurable();
    const commands = journal.commandsProcessed();
    const { latencyUs } = this.meter.take();
    const eventsPerSecond = Math.max(events - this.lastEvents, 0) / seconds;
    const commandsPerSecond = Math.max(commands - this.lastCommands, 0) / seconds;
    this.lastAtMs = nowMs;
    this.lastEvents = events;
    this.lastCommands = commands;
    const node = health(role, journal);
    return {
      atMs: Date.now(),
      node,
      members: membersOf(node, role.replicationLags?.() ?? new Map<number, number>()),
      intervalMs: Math.round(seconds * 1000),
      commandsPerSecond: role.accepting() ? Math.round(commandsPerSecond) : null,
      eventsPerSecond: Math.round(eventsPerSecond),
      latencyUs,
    };
  }

  /** The best levels of each instrument some page shows, asked of the read model at once. */
  private async books(): Promise<Map<number, Record<string, unknown>>> {
    const out = new Map<number, Record<string, unknown>>();
    const reads = this.sources.reads;
    if (reads === null) return out;
    const instruments = new Set<number>();
    for (const ws of this.viewers) instruments.add(ws.getUserData().instrument);
    await Promise.all(
      [...instruments].map(async (instrument) => {
        const depth = dashboardBookLevels;
        try {
          const { sequence, body } = await reads.query({ what: 'book', instrument, depth });
          const book = body === null ? null : { sequence, ...(body as object) };
          out.set(instrument, { book, bookError: body === null ? 'no such instrument' : null });
        } catch (error) {
          out.set(instrument, { book: null, bookError: (error as Error).message });
        }
      }),
    );
    return out;
  }
}

/** Answers a GET with one of the page's files (no cache: a node upgrade changes them). */
function asset(res: HttpResponse, type: string, body: string): void {
  res
    .writeStatus('200 OK')
    .writeHeader('content-type', type)
    .writeHeader('cache-control', 'no-store')
    .writeHeader('x-content-type-options', 'nosniff')
    .end(body);
}
