import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { bracket } from '../sip/message/host.ts';
import { originAllowed, presentsToken } from './ws/access.ts';

/** Inspection messages kept for a page that connects later (the newest win). */
const BACKLOG = 200;

export interface InspectorBridgeOptions {
  readonly host: string;
  readonly port: number;
  /** WS_TOKEN: pages must present it (`?token=`) too. */
  readonly token?: string | undefined;
  /** WS_ORIGINS; unset = loopback pages only. */
  readonly origins?: readonly string[] | undefined;
}

/**
 * The local end of the Stately inspector (INSPECT=true). `@statelyai/inspect/server` does the same job but
 * listens on every interface (`listen(port)`, no host), has no Origin check (any web site could read every
 * call's events from ws://localhost:8383) and crashes the process when its port is taken; this one binds
 * WS_HOST, checks Origin and token like the WebSocket server, and fails start-up cleanly.
 *
 * The relay publishes on a path with a random key; pages only read. The page served at `/` embeds the
 * hosted inspector (stately.ai) and forwards what arrives here into it.
 */
export class InspectorBridge {
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #backlog: string[] = [];
  readonly #key = randomBytes(16).toString('hex');

  private constructor(http: Server, wss: WebSocketServer) {
    this.#http = http;
    this.#wss = wss;
  }

  static start(opts: InspectorBridgeOptions): Promise<InspectorBridge> {
    const http = createServer();
    const wss = new WebSocketServer({
      server: http,
      maxPayload: 1024 * 1024,
      verifyClient: (info, done) => {
        if (!originAllowed(info.origin, opts.origins)) return done(false, 403, 'Forbidden');
        if (opts.token && !presentsToken(info.req, opts.token)) return done(false, 401, 'Unauthorized');
        done(true);
      },
    });
    wss.on('error', () => {}); // the server's own errors (a taken port) reject start() below
    const bridge = new InspectorBridge(http, wss);
    http.on('request', (req, res) => {
      const origin = req.headers.origin;
      if (!originAllowed(origin, opts.origins) || (opts.token && !presentsToken(req, opts.token))) {
        res.writeHead(403).end();
        return;
      }
      const token = opts.token ? `?token=${encodeURIComponent(opts.token)}` : '';
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page(token));
    });
    wss.on('connection', (ws, req) => bridge.#connect(ws, req.url ?? '/'));
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(opts.port, opts.host, () => {
        http.off('error', reject);
        http.on('error', () => {});
        resolve(bridge);
      });
    });
  }

  get port(): number {
    const a = this.#http.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Where the relay's own inspector client publishes (`@statelyai/inspect`'s WebSocket inspector). */
  publishUrl(host: string, token?: string): string {
    const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    const t = token ? `&token=${encodeURIComponent(token)}` : '';
    return `ws://${bracket(h)}:${this.port}/publish?key=${this.#key}${t}`;
  }

  close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    this.#wss.close();
    return new Promise((r) => this.#http.close(() => r()));
  }

  #connect(ws: WebSocket, url: string): void {
    ws.on('error', () => {});
    const u = new URL(url, 'ws://bridge');
    if (u.pathname !== '/publish' || u.searchParams.get('key') !== this.#key) {
      for (const m of this.#backlog) ws.send(m); // a page: it reads, whatever it sends is ignored
      return;
    }
    ws.on('message', (data) => {
      const msg = data.toString();
      this.#backlog.push(msg);
      if (this.#backlog.length > BACKLOG) this.#backlog.shift();
      for (const c of this.#wss.clients)
        if (c !== ws && c.readyState === WebSocket.OPEN && c.bufferedAmount < 4 * 1024 * 1024) c.send(msg);
    });
  }
}

function page(token: string): string {
  return `<!DOCTYPE html>
<html><head><title>sip-relay: Stately inspector</title>
<style>html,body,iframe{margin:0;height:100%;width:100%;border:0}</style></head>
<body><iframe id="inspector" src="https://stately.ai/inspect"></iframe>
<script>
const frame = document.getElementById('inspector');
const pending = [];
let ready = false;
addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    ready = true;
    for (const m of pending.splice(0)) frame.contentWindow.postMessage(m, '*');
  }
});
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/${token}');
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (ready) frame.contentWindow.postMessage(m, '*');
  else pending.push(m);
};
</script></body></html>`;
}
