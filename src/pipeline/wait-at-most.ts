/**
 * Waits for `work`, but at most `ms`: a stop or a promotion that must go on whether or not a
 * piece of work ends (it keeps running; its result is not waited for past the limit).
 */
export function waitAtMost(work: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (work === undefined) return Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work.then(() => undefined), limit]).finally(() => clearTimeout(timer));
}
