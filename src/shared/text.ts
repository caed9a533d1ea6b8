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

/** `text` cut to at most `max` characters at a word boundary, with `…` when anything was cut. */
export function clipWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max); // leaves room for the ellipsis: the space before the cut word goes
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut.slice(0, max - 1)).replace(/[\s,;:(]+$/, '')}…`;
}

/** The first sentence of a paragraph: up to a `.` or `:` before a space, not inside "e.g.", "i.e." or "etc.". */
export function firstSentenceOf(paragraph: string): string {
  const m = /^(.*?(?<!\b(?:e\.g|i\.e|etc|vs|cf))[.:])(\s|$)/.exec(paragraph);
  return (m ? m[1] : paragraph).replace(/:$/, '');
}
