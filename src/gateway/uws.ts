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

let loaded: UwsModule | null = null;

/** The native uWebSockets.js module (loaded on first use). @throws GatewayError */
export function uws(): UwsModule {
  loaded ??= loadNative();
  return loaded;
}
