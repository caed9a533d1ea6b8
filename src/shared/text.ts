/** Small pieces of the words netdoctor prints. */

/** `1 check`, `2 checks`; `many` for irregular plurals (`plural(n, 'query', 'queries')`). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The head of a summary, for a title or a one-line figure: up to its first
 * `: ` or `; ` ("cannot bind UDP port 68 (EACCES): run as root…" → "cannot
 * bind UDP port 68 (EACCES)"). The head is at least 15 characters, so a
 * summary that opens with an address ("192.168.1.10: …") is not cut to the
 * address alone.
 */
export function headOf(summary: string): string {
  const m = /^(.{15,}?)(: |; )/.exec(summary);
  return m ? m[1] : summary;
}
