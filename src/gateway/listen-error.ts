/**
 * The client port could not be bound (in use, or an address that is not this machine's). Its
 * own module: the command line maps it to an exit code without loading the gateway (uWS).
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}
