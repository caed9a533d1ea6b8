/**
 * Styled lines, wrapped here rather than by ink: the screen must fit the
 * terminal exactly (ink redraws the whole terminal once its output is as
 * tall as the window, and hard-wraps anything wider mid-word), so every
 * line's width and every pane's height is known before anything is drawn.
 *
 * Only characters one column wide are used in the UI (✖ ✔ ↳ › · …), so the
 * length of a string is its width.
 */

/** Meaning, not colour: the theme turns tones into colours (or none, with NO_COLOR). */
export type Tone = 'critical' | 'warning' | 'unknown' | 'ok' | 'info' | 'muted' | 'accent' | 'plain';

export interface Seg {
  text: string;
  tone?: Tone;
  bold?: boolean;
  /** The selection highlight; it also survives NO_COLOR. */
  inverse?: boolean;
}

export type Line = Seg[];

export const seg = (text: string, tone?: Tone, extra: Omit<Seg, 'text' | 'tone'> = {}): Seg => ({ text, ...(tone ? { tone } : {}), ...extra });

export function lineText(line: Line): string {
  return line.map((s) => s.text).join('');
}

export function lineWidth(line: Line): number {
  return lineText(line).length;
}

const sameStyle = (a: Seg, b: Seg) => a.tone === b.tone && a.bold === b.bold && a.inverse === b.inverse;

/** Merges neighbours of the same style, so a line is a handful of ink <Text>s rather than one per word. */
export function compact(line: Line): Line {
  const out: Line = [];
  for (const s of line) {
    if (s.text === '') continue;
    const last = out[out.length - 1];
    if (last && sameStyle(last, s)) out[out.length - 1] = { ...last, text: last.text + s.text };
    else out.push({ ...s });
  }
  return out;
}

interface Word {
  parts: Seg[];
  width: number;
  /** The style of the space before this word when it joins the previous one on a line. */
  gap: Seg;
}

/** Splits styled text into words; a word may span segments (`pi-dns` + `:`) when no space separates them. */
function wordsOf(segs: readonly Seg[]): Word[] {
  const words: Word[] = [];
  let current: Word | undefined;
  let pendingGap: Seg | undefined;
  for (const s of segs) {
    for (const piece of s.text.split(/(\s+)/)) {
      if (piece === '') continue;
      if (/^\s+$/.test(piece)) {
        if (current) words.push(current);
        current = undefined;
        pendingGap = { ...s, text: ' ' };
        continue;
      }
      if (!current) {
        current = { parts: [], width: 0, gap: pendingGap ?? { text: ' ' } };
        pendingGap = undefined;
      }
      current.parts.push({ ...s, text: piece });
      current.width += piece.length;
    }
  }
  if (current) words.push(current);
  return words;
}

/** Cuts a word that is wider than a whole line into line-sized pieces (the only case a word is ever cut). */
function splitWord(word: Word, width: number): Word[] {
  const out: Word[] = [];
  let piece: Word = { parts: [], width: 0, gap: word.gap };
  for (const part of word.parts) {
    let rest = part.text;
    while (rest.length > 0) {
      const room = width - piece.width;
      const take = rest.slice(0, room);
      piece.parts.push({ ...part, text: take });
      piece.width += take.length;
      rest = rest.slice(take.length);
      if (piece.width >= width) {
        out.push(piece);
        piece = { parts: [], width: 0, gap: { text: '' } };
      }
    }
  }
  if (piece.width > 0) out.push(piece);
  return out;
}

/**
 * Greedy word wrap of styled text into lines of at most `width` columns.
 * `first` prefixes the first line and `rest` the others (hanging indents).
 * Words are never cut unless one is wider than a line on its own.
 */
export function wrapSegs(segs: readonly Seg[], width: number, first: Line = [], rest: Line = first): Line[] {
  const lines: Line[] = [];
  let line: Seg[] = [...first];
  let used = lineWidth(first);
  let empty = true;
  const room = (prefix: Line) => Math.max(1, width - lineWidth(prefix));
  const pushLine = () => {
    lines.push(compact(line));
    line = [...rest];
    used = lineWidth(rest);
    empty = true;
  };
  for (const w of wordsOf(segs)) {
    const pieces = w.width > room(rest) ? splitWord(w, room(rest)) : [w];
    for (const p of pieces) {
      if (!empty && used + 1 + p.width > width) pushLine();
      if (empty && used + p.width > width && used > lineWidth(rest)) pushLine();
      if (!empty) {
        line.push(p.gap.text === '' ? p.gap : { ...p.gap, text: ' ' });
        used += p.gap.text === '' ? 0 : 1;
      }
      line.push(...p.parts);
      used += p.width;
      empty = false;
    }
  }
  lines.push(compact(line));
  return lines;
}

/**
 * Lays out items (each a short phrase such as `pi-dns moved → 169.254.77.12`)
 * on lines joined by `sep`; an item that does not fit moves whole to the next
 * line, and only an item wider than a line is word-wrapped itself.
 */
export function flowItems(items: readonly Line[], width: number, sep: Seg, first: Line = [], rest: Line = first): Line[] {
  const lines: Line[] = [];
  let line: Seg[] = [...first];
  let used = lineWidth(first);
  let empty = true;
  for (const item of items) {
    const w = lineWidth(item);
    const need = empty ? w : sep.text.length + w;
    if (!empty && used + need > width) {
      lines.push(compact(line));
      line = [...rest];
      used = lineWidth(rest);
      empty = true;
    }
    if (empty && used + w > width) {
      // Too wide for any line: wrap the item's own words, then carry on after it.
      const wrapped = wrapSegs(item, width, line, rest);
      lines.push(...wrapped.slice(0, -1));
      line = [...wrapped[wrapped.length - 1]];
      used = lineWidth(line);
      empty = false;
      continue;
    }
    if (!empty) line.push(sep);
    line.push(...item);
    used += empty ? w : need;
    empty = false;
  }
  lines.push(compact(line));
  return lines;
}

/** Local wall-clock time, `14:03:12`. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
