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
