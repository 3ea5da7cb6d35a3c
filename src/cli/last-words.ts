/**
 * The line a member failed with (`bourse: no space left on the disk of …`), told to the
 * `bourse cluster` that started it, which names it when the member keeps failing. The member's
 * stderr is its supervisor's own (inherited, not piped through it: a supervisor killed with
 * SIGKILL would take the members' last lines with it), so the line also goes down a pipe of
 * its own, on fd 3, when the supervisor set `lastWordsVariable`.
 *
 *   bourse cluster ──spawn, stdio[3] = pipe──► bourse member ──fails──► stderr: the line
 *        ▲                                                      └─────► fd 3:   the line
 *        └──── LastWords: the last line read ◄──────────────────────────────┘
 */
import { writeSync } from 'node:fs';
import type { Readable } from 'node:stream';

/** Set (to the fd's number) by the supervisor: fd 3 is its pipe, not a file of another's. */
export const lastWordsVariable = 'BOURSE_LAST_WORDS_FD';
export const lastWordsFd = 3;

/** The longest line kept (a stack trace is cut to its first line anyway). */
const lineCharsMax = 400;

/** Tells the supervisor, if there is one, the line the process fails with. */
export function tellLastWords(line: string): void {
  if (process.env[lastWordsVariable] !== String(lastWordsFd)) return;
  try {
    writeSync(lastWordsFd, line.split('\n')[0].slice(0, lineCharsMax) + '\n');
  } catch {
    // The supervisor is gone (EPIPE): nobody to tell; stderr has the line.
  }
}

/** The supervisor's end: the last line a member told (one member's run at a time). */
export class LastWords {
  private text = '';
  private ended = false;
  private readonly waiting: (() => void)[] = [];

  constructor(stream: Readable | null) {
    if (stream === null) {
      this.ended = true;
      return;
    }
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      // Bounded: only the end of what was told is kept.
      this.text = (this.text + chunk).slice(-2 * lineCharsMax);
    });
    stream.once('close', () => this.end());
    stream.once('error', () => this.end());
  }

  /** The last line told, or null. */
  line(): string | null {
    const lines = this.text.split('\n').filter((l) => l !== '');
    return lines.at(-1) ?? null;
  }

  /**
   * Resolves once the pipe has closed (everything told was read), or after `ms`: a child the
   * member started may hold the pipe open after the member's exit.
   */
  settled(ms: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private end(): void {
    this.ended = true;
    for (const wake of this.waiting.splice(0)) wake();
  }
}
