/**
 * Challenge login (docs/PROTOCOL.md, "Version handshake and login"). The secret never crosses
 * the wire, and what the server keeps cannot log in: Hello names the key by its id, the server
 * sends a fresh nonce, and the client answers with (as SCRAM, RFC 5802, does)
 *
 *   client key = SHA-256(secret)                 held by the client only
 *   stored key = SHA-256(client key)             all keys.json holds
 *   signature  = HMAC-SHA256(stored key, "bourse-login-v2" ‖ nonce ‖ client id u32 LE)
 *   proof      = client key XOR signature
 *
 * The server recomputes the signature, takes it off the proof and checks that the SHA-256 of
 * what is left is the stored key. Version 1 took the HMAC under SHA-256(secret), which
 * keys.json held: whoever read the file could log in as any key. A proof is bound to one nonce
 * and one client id, so a recorded one is worth nothing later.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const context = Buffer.from('bourse-login-v2', 'latin1');

/** The bytes of a proof (and of each key): a SHA-256. */
export const loginProofBytes = 32;

/** A secret's client key: its SHA-256 (raw bytes). */
export function clientKey(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** What the server stores of a key: the SHA-256 of its client key. */
export function storedKey(key: Uint8Array): Buffer {
  return createHash('sha256').update(key).digest();
}

/** The proof a client sends in Answer for `nonce`: its client key under the signature. */
export function loginProof(key: Uint8Array, nonce: Uint8Array, clientId: number): Buffer {
  const proof = signature(storedKey(key), nonce, clientId);
  for (let i = 0; i < proof.byteLength; i++) proof[i] ^= key[i];
  return proof;
}

/** Whether `proof` answers `nonce` for `clientId` under the stored key; constant time. */
export function proofHolds(
  stored: Uint8Array,
  nonce: Uint8Array,
  clientId: number,
  proof: Uint8Array,
): boolean {
  if (proof.byteLength !== loginProofBytes || stored.byteLength !== loginProofBytes) return false;
  const key = signature(stored, nonce, clientId);
  for (let i = 0; i < key.byteLength; i++) key[i] ^= proof[i];
  return timingSafeEqual(storedKey(key), stored);
}

function signature(stored: Uint8Array, nonce: Uint8Array, clientId: number): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32LE(clientId >>> 0, 0);
  return createHmac('sha256', stored).update(context).update(nonce).update(id).digest();
}

/** Splits `bk_<id>_<secret>` into its id and secret, or null when it is not one. */
export function splitApiKey(token: string): { id: string; secret: string } | null {
  const match = /^bk_([0-9a-f]{8})_([A-Za-z0-9_-]{1,64})$/.exec(token);
  return match === null ? null : { id: match[1], secret: match[2] };
}
