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
  TemplatedApp,
  us_listen_socket,
  WebSocket,
} from '@trufflesuite/uws-js-unofficial';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const require = createRequire(import.meta.url);

function loadNative(): typeof Uws {
  const binary =
    `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_` +
    `${process.versions.modules}.node`;
  try {
    return require(binary) as typeof Uws;
  } catch (error) {
    throw new GatewayError(
      'UWS_NATIVE_MISSING',
      `uWebSockets.js native binary did not load (${binary}): ${(error as Error).message}. ` +
        'bourse will not run on the slow fallback server; use Node 20 on linux-x64 or arm64.',
    );
  }
}

let loaded: typeof Uws | null = null;

/** The native uWebSockets.js module (loaded on first use). @throws GatewayError */
export function uws(): typeof Uws {
  loaded ??= loadNative();
  return loaded;
}
