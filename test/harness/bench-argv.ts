/** Runs `body` as if a bench had been started with `args` (its flags read process.argv). */
export function withArgv<T>(args: string[], body: () => T): T {
  const saved = process.argv;
  process.argv = ['node', 'bench.js', ...args];
  try {
    return body();
  } finally {
    process.argv = saved;
  }
}
