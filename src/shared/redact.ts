/**
 * URLs as they may appear in output, history and reports: a user name,
 * password or query (`?token=…`) in a configured URL is a secret, so it is
 * blanked; the scheme, host, port and path stay, to say which source it was.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.username || url.password) {
    url.username = url.username ? '***' : '';
    url.password = url.password ? '***' : '';
  }
  if (url.search) url.search = '?***';
  if (url.hash) url.hash = '';
  return url.toString();
}

/** Replaces every occurrence of each secret-bearing URL in a message by its redacted form. */
export function redactUrlsIn(message: string, urls: readonly string[]): string {
  let out = message;
  for (const u of urls) {
    const safe = redactUrl(u);
    if (safe !== u) out = out.split(u).join(safe);
  }
  return out;
}
