/**
 * HEAD wherever GET is served (RFC 9110 9.3.2: health checkers use it): the same status and
 * headers, no body. uWS sends the body that end() is given on a HEAD too, which the client
 * reads as the start of the next answer on the connection; so a HEAD's handler gets this view
 * of its response, whose end(body) sends the headers with the body's Content-Length alone.
 */
import type { HttpResponse } from './uws.js';

/**
 * `res` whose end() sends no body. Allocates a Proxy per request (HEAD is rare, and off the
 * per-message path); methods that return the response return the view, so chains hold.
 */
export function headOnly(res: HttpResponse): HttpResponse {
  const view: HttpResponse = new Proxy(res, {
    get(target, name) {
      if (name === 'end') {
        return (body?: string | ArrayBuffer | Uint8Array): HttpResponse => {
          // endWithoutBody with any argument (a length, even undefined) leaves the response
          // unfinished in this uWS (20.30), which then ends the process: the length goes as a
          // header of our own. No handler here asks end() to close the connection.
          target.writeHeader('content-length', String(bodyBytes(body)));
          target.endWithoutBody();
          return view;
        };
      }
      const value: unknown = Reflect.get(target, name);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const out: unknown = value.apply(target, args);
        return out === target ? view : out;
      };
    },
  });
  return view;
}

function bodyBytes(body: string | ArrayBuffer | Uint8Array | undefined): number {
  if (body === undefined) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}
