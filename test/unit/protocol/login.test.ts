/**
 * Challenge login's proof, as docs/PROTOCOL.md gives it for clients in other languages: the
 * secret split off `bk_<id>_` (it may hold `_` and `-`), its raw SHA-256 as the HMAC key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginKey, loginProof, splitApiKey } from '../../../src/protocol/login.js';

test("the proof of PROTOCOL.md's example", () => {
  const key = splitApiKey('bk_0a1b2c3d_q2V_Lm9-Xc3aB7dR0sT4uW8yZ1eF5gH6')!;
  assert.deepEqual(key, { id: '0a1b2c3d', secret: 'q2V_Lm9-Xc3aB7dR0sT4uW8yZ1eF5gH6' });
  const hmacKey = loginKey(key.secret);
  const want = '330a4142312264a2b951da6f4d7aa30d63923e9d923b0cf4f0111bac2952981e';
  assert.equal(hmacKey.toString('hex'), want);
  const nonce = Uint8Array.from({ length: 32 }, (_, i) => i);
  const proof = 'd078205a0be59efe1eb38343937e23c101f411e41df04a89026909d17fc961f5';
  assert.equal(loginProof(hmacKey, nonce, 7).toString('hex'), proof);
});
