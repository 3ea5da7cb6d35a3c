/**
 * Challenge login's proof, as docs/PROTOCOL.md gives it for clients in other languages: the
 * secret split off `bk_<id>_` (it may hold `_` and `-`), its raw SHA-256 the client key, the
 * SHA-256 of that the stored key. The figures were computed apart (Python's hashlib and hmac).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  clientKey,
  loginProof,
  proofHolds,
  splitApiKey,
  storedKey,
} from '../../../src/protocol/login.js';

const nonce = Uint8Array.from({ length: 32 }, (_, i) => i);

test("the proof of PROTOCOL.md's example", () => {
  const key = splitApiKey('bk_0a1b2c3d_q2V_Lm9-Xc3aB7dR0sT4uW8yZ1eF5gH6')!;
  assert.deepEqual(key, { id: '0a1b2c3d', secret: 'q2V_Lm9-Xc3aB7dR0sT4uW8yZ1eF5gH6' });
  const client = clientKey(key.secret);
  const want = '330a4142312264a2b951da6f4d7aa30d63923e9d923b0cf4f0111bac2952981e';
  assert.equal(client.toString('hex'), want);
  const stored = 'a58abc8ff00eb782c1f7842739574c3e67732162dfa9d62c28dba9cf32cdcdb7';
  assert.equal(storedKey(client).toString('hex'), stored);
  const proof = 'e0a46458085804e8ea4ca86bf90332a110f39d1a8e29ae2c243ef67b58975a9f';
  assert.equal(loginProof(client, nonce, 7).toString('hex'), proof);
  assert.equal(proofHolds(Buffer.from(stored, 'hex'), nonce, 7, Buffer.from(proof, 'hex')), true);
});

test('what the server stores cannot make a proof: the stored key, used as v1 did, fails', () => {
  const client = clientKey('q2V_Lm9-Xc3aB7dR0sT4uW8yZ1eF5gH6');
  const stored = storedKey(client);
  // A thief of keys.json has `stored`: every way to use it as the client key, or as the HMAC
  // key of version 1's proof, is refused.
  assert.equal(proofHolds(stored, nonce, 7, loginProof(stored, nonce, 7)), false);
  const v1 = createHmac('sha256', stored).update('bourse-login-v1').update(nonce);
  assert.equal(proofHolds(stored, nonce, 7, v1.update(Buffer.from([7, 0, 0, 0])).digest()), false);
  // A right proof holds for its own nonce and client id only, and a short one never.
  const proof = loginProof(client, nonce, 7);
  assert.equal(proofHolds(stored, nonce, 8, proof), false);
  assert.equal(
    proofHolds(
      stored,
      nonce.map((b) => b ^ 1),
      7,
      proof,
    ),
    false,
  );
  assert.equal(proofHolds(stored, nonce, 7, proof.subarray(0, 31)), false);
});
