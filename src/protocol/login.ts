/**
 * Challenge login (docs/PROTOCOL.md, "Version handshake and login"). The secret never crosses
 * the wire: Hello names the key by its id, the server sends a fresh nonce, and the client
 * answers with
 *
 *   proof = HMAC-SHA256(key = SHA-256(secret), "bourse-login-v1" ‖ nonce ‖ client id u32 LE)
 *
 * The server holds SHA-256(secret) in keys.json, so it can check the proof; a proof is bound
 * to one nonce and one client id, so a recorded one is worth nothing later.
 */
import { createHash, createHmac } from 'node:crypto';

const context = Buffer.from('bourse-login-v1', 'latin1');

/** The HMAC key of a secret: its SHA-256 (raw bytes). */
export function loginKey(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** The proof a client sends in Answer for `nonce`. */
export function loginProof(key: Uint8Array, nonce: Uint8Array, clientId: number): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32LE(clientId >>> 0, 0);
  return createHmac('sha256', key).update(context).update(nonce).update(id).digest();
}

/** Splits `bk_<id>_<secret>` into its id and secret, or null when it is not one. */
export function splitApiKey(token: string): { id: string; secret: string } | null {
  const match = /^bk_([0-9a-f]{8})_([A-Za-z0-9_-]{1,64})$/.exec(token);
  return match === null ? null : { id: match[1], secret: match[2] };
}
