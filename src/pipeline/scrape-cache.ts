/**
 * One computation of /metrics' text for many scrapes: scrapes that arrive while it is computed
 * wait for it, and those within `ageMaxMs` of it get its text. A scrape reads every registry
 * on the main thread (the gateway's thread), so a flood of scrapes took that thread from
 * clients; now it costs at most one computation per `ageMaxMs`, whatever the scrape rate.
 *
 *   scrape ──(text younger than ageMaxMs)──────────────► that text
 *          ──(a computation under way)─────────────────► its text, when done
 *          ──(else)──► compute (counted in `computed`) ─► its text, kept with its time
 */
import { assert } from '../stdx/assert.js';

export class ScrapeCache {
  /** Computations started: what bourse_metrics_computed_total shows. */
  computed = 0;
  private last = '';
  private lastAtMs = Number.NEGATIVE_INFINITY;
  private running: Promise<string> | null = null;

  constructor(
    private readonly compute: () => Promise<string>,
    private readonly ageMaxMs: number,
    /** A monotonic clock (ms); tests pass their own. */
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    assert(Number.isFinite(ageMaxMs), 'scrape cache: a finite age');
    assert(ageMaxMs >= 0, 'scrape cache: a non-negative age');
  }

  /** The text of a recent scrape, or of the one under way, or of a new one. */
  text(): Promise<string> {
    if (this.nowMs() - this.lastAtMs < this.ageMaxMs) return Promise.resolve(this.last);
    this.running ??= this.start();
    return this.running;
  }

  /** A computation; `running` until it settles (a failed one is not kept: the next retries). */
  private start(): Promise<string> {
    this.computed++;
    const texts = Promise.resolve().then(() => this.compute());
    return texts
      .then((text) => {
        // Aged from when it finished: what it shows was read during the computation.
        this.last = text;
        this.lastAtMs = this.nowMs();
        return text;
      })
      .finally(() => {
        this.running = null;
      });
  }
}
