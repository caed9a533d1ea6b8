/** Cuts at word boundaries with an ellipsis, and first sentences that do not stop at "e.g." (issue 21, item 8). */
import { expect, it } from 'vitest';
import { clipWords, firstSentenceOf } from '../../src/shared/text.js';

it('firstSentenceOf does not stop at e.g. or i.e.', () => {
  expect(firstSentenceOf('A device (e.g. a printer) sits on it. More here.')).toBe('A device (e.g. a printer) sits on it.');
  expect(firstSentenceOf('Seen from a machine, i.e. the client: details')).toBe('Seen from a machine, i.e. the client');
  expect(firstSentenceOf('no stop at all')).toBe('no stop at all');
});

it('clipWords cuts at a word boundary, within the width, with an ellipsis only when it cut', () => {
  expect(clipWords('short enough', 20)).toBe('short enough');
  const cut = clipWords('Another device sits on the address reserved for pi-dns and answers', 30);
  expect(cut).toBe('Another device sits on the…');
  expect(cut.length).toBeLessThanOrEqual(30);
  expect(clipWords('abcdefghijklmnopqrstuvwxyz', 10)).toBe('abcdefghi…');
});
