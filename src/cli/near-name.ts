/**
 * The known name nearest a mistyped one, as commander suggests for a flag ("(Did you mean
 * --from-seq?)"), for the names commander does not check itself: a settings file's keys.
 * Commander's own helper (lib/suggestSimilar.js) is not among the package's exports.
 */

/** The candidate within a third of `word`'s length in edits (at least 1), or undefined. */
export function nearName(word: string, candidates: readonly string[]): string | undefined {
  const editsMax = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestEdits = editsMax + 1;
  for (const candidate of candidates) {
    const edits = editDistance(word, candidate);
    if (edits < bestEdits) {
      best = candidate;
      bestEdits = edits;
    }
  }
  return best;
}

/**
 * Edits from `a` to `b`: insertions, deletions, substitutions and swaps of two neighbours
 * (`prot` is one from `port`), as commander counts them (optimal string alignment).
 */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
