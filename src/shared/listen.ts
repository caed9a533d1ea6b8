/** `127.0.0.1:9469`, `[::1]:9469`, `localhost:9469` or `:9469` (every address) → host and port; undefined when it is not host:port. */
export function parseListen(text: string): { host?: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s[\]]*):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) return undefined;
  return { host: m[1] ? m[1].replace(/^\[|\]$/g, '') : undefined, port: Number(m[2]) };
}
