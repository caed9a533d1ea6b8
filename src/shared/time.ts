/** `2026-11-25T13:58:55.123Z` → `2026-11-25 13:58:55 UTC`: read later and elsewhere, so the zone is always said. */
export function humanTime(isoTime: string): string {
  return isoTime.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}
