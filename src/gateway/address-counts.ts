/**
 * How many of something (logins under way, reads waiting) each remote address holds, for the
 * per-address limits (admission.ts, read-at.ts). An address holding none has no entry, so the
 * map is bounded by what is held.
 */
import { assert } from '../stdx/assert.js';

export class AddressCounts {
  private readonly held = new Map<string, number>();

  constructor(private readonly what: string) {}

  of(address: string): number {
    return this.held.get(address) ?? 0;
  }

  add(address: string): void {
    this.held.set(address, this.of(address) + 1);
  }

  /** Counts one out; it must have been counted in (asserted). */
  remove(address: string): void {
    const n = this.of(address);
    assert(n >= 1, `${this.what}: counted at its address`);
    if (n === 1) this.held.delete(address);
    else this.held.set(address, n - 1);
  }
}
