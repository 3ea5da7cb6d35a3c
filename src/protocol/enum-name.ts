/** The schema's name of a value of a generated enum, or `Unknown<code>` (for logs and tools). */
export function enumName(generated: object, code: number): string {
  const name = (generated as Record<number, string | undefined>)[code];
  return name === undefined ? 'Unknown' + code : name;
}
