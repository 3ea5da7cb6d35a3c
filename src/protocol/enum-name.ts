/** The schema's name of a value of a generated enum, or `Unknown<code>` (for logs and tools). */
export function enumName(generated: object, code: number): string {
  const name = (generated as Record<number, string | undefined>)[code];
  return name === undefined ? 'Unknown' + code : name;
}

/**
 * The names of the bits set in `bits`, lowest first, joined by '|' (`Head|Record|Linked`); a
 * bit the generated bit-flags enum does not name is `Unknown<value>`, so none goes unseen.
 */
export function flagNames(generated: object, bits: number): string {
  const names: string[] = [];
  for (let bit = 1; bit <= bits; bit *= 2) {
    if ((bits & bit) !== 0) names.push(enumName(generated, bit));
  }
  return names.join('|');
}
