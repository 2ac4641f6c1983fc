import WebSocket from 'ws';

/**
 * A WebSocket client for protocol tests: every message, decoded by `decode`, lands in `got`; `until` polls
 * for the first one a predicate accepts (undefined after `ms`).
 */
export async function wsClient<T>(url: string, decode: (text: string) => T) {
  const ws = new WebSocket(url);
  const got: T[] = [];
  ws.on('message', (d) => got.push(decode(String(d))));
  await new Promise((r) => ws.on('open', r));
  const until = async (pred: (m: T) => boolean, ms = 8000): Promise<T | undefined> => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const m = got.find(pred);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  };
  return { ws, got, until };
}

/** Opens a client; resolves 'open' (and closes it) or the HTTP status the server refused it with. */
export function wsAttempt(url: string, headers: Record<string, string> = {}): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
}
