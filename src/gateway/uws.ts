/**
 * The one place that loads uWebSockets.js, so that changing the package is a one-line change.
 *
 * We use `@trufflesuite/uws-js-unofficial` (the official package is not in the npm registry).
 * Its entry point silently falls back to a slow TypeScript server when the native binary does
 * not load, so we load the binary for this platform and Node ABI directly and fail at start-up
 * with a clear message when it is missing. It has no TLS: put nginx or envoy in front of it.
 */
import { createRequire } from 'node:module';
import type * as Uws from '@trufflesuite/uws-js-unofficial';

export type {
  HttpRequest,
  HttpResponse,
  us_listen_socket,
  us_socket_context_t,
  WebSocket,
} from '@trufflesuite/uws-js-unofficial';

/**
 * An app. The binary has `close()` (closes the listening socket and every connection, kept-
 * alive HTTP ones included), which this fork's type declarations omit.
 */
export type TemplatedApp = Uws.TemplatedApp & { close(): void };

type UwsModule = Omit<typeof Uws, 'App'> & { App(options?: Uws.AppOptions): TemplatedApp };

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const require = createRequire(import.meta.url);

function loadNative(): UwsModule {
  const binary =
    `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_` +
    `${process.versions.modules}.node`;
  try {
    return require(binary) as UwsModule;
  } catch (error) {
    throw new GatewayError(
      'UWS_NATIVE_MISSING',
      `uWebSockets.js native binary did not load (${binary}): ${(error as Error).message}. ` +
        'bourse will not run on the slow fallback server; use Node 20 on linux-x64 or arm64.',
    );
  }
}

/**
 * Binds `app` to host:port alone. uWS sets SO_REUSEPORT by default: a second node started on
 * a port a running node holds bound it too, and the kernel handed each new connection to one
 * or the other (clients split between two ledgers, /health and /metrics answered by either).
 * LIBUS_LISTEN_EXCLUSIVE_PORT (1; the binary takes it, the typings lack the overload) makes
 * that bind fail, as any other taken port does.
 */
export function listenExclusive(
  app: TemplatedApp,
  host: string,
  port: number,
  done: (socket: Uws.us_listen_socket | false) => void,
): void {
  const listen = app.listen as unknown as (
    host: string,
    port: number,
    options: number,
    done: (socket: Uws.us_listen_socket | false) => void,
  ) => void;
  listen.call(app, host, port, listenExclusivePort, done);
}

const listenExclusivePort = 1;

let loaded: UwsModule | null = null;

/** The native uWebSockets.js module (loaded on first use). @throws GatewayError */
export function uws(): UwsModule {
  loaded ??= loadNative();
  return loaded;
}

type Handler = (a: unknown, b: unknown, c: unknown, d: unknown) => unknown;
/** An app's method that registers a handler: a route's, or a WebSocket behavior's. */
type Registers = (pattern: unknown, handlers: unknown) => unknown;

/** The app's methods that take a route's handler (an HTTP one) after the pattern. */
const httpRoutes = ['get', 'post', 'options', 'del', 'patch', 'put', 'head', 'connect', 'trace'];

/**
 * An app whose handlers are let go once close() has closed its connections. uWS keeps every
 * handler an app is given for the life of the process (the native app is never freed, close()
 * or not), and with them all their closures reach: a stopped node's gateway, its rings (21 MB)
 * and the node itself, once for each change of role of a cluster member. Here uWS holds only
 * trampolines into `held`, which close() drops. A late call then finds nothing: an HTTP one is
 * answered 503, any other does nothing.
 */
export function releasingApp(): TemplatedApp {
  const app = uws().App();
  let held: Handler[] | null = [];
  const hold = (handler: Handler, http: boolean): Handler => {
    const at = (held ?? []).push(handler) - 1;
    // Four fixed arguments (uWS passes at most four), not a rest array: a WebSocket message
    // comes through here, and the hot path allocates nothing.
    return (a, b, c, d) => {
      const live = held?.[at];
      if (live !== undefined) return live(a, b, c, d);
      if (http) (a as Uws.HttpResponse).writeStatus('503 Service Unavailable').end();
      return undefined;
    };
  };
  const methods = app as unknown as Record<string, Registers> & { close: () => void };
  for (const name of [...httpRoutes, 'any']) {
    const own = methods[name].bind(app);
    methods[name] = (pattern, handler) => own(pattern, hold(handler as Handler, true));
  }
  const ws = methods.ws.bind(app);
  methods.ws = (pattern, behavior) => {
    const wrapped: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(behavior as object)) {
      const handler = typeof value === 'function' ? (value as Handler) : null;
      wrapped[key] = handler === null ? value : hold(handler, key === 'upgrade');
    }
    return ws(pattern, wrapped);
  };
  const close = methods.close.bind(app);
  methods.close = () => {
    close(); // its sockets' close handlers run in it
    held = null;
  };
  return app;
}
