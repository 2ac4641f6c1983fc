import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { traceToMermaid } from '../../src/machines/trace-diagram.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';
import { wsAttempt } from '../helpers/ws-client.ts';

describe.skipIf(!hasBinary('sipp'))('watching calls', () => {
  it('CALL_TRACE_DIR: one JSON-lines trace per call, turned into a sequence diagram', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'traces-'));
    const relay = await startTestRelay({
      CALL_TRACE_DIR: dir,
      RTP_PORT_START: '40800',
      RTP_PORT_END: '40899',
    });
    const r = await sipp('uac', `127.0.0.1:${relay.sip.port}`, ['-s', 'relay', '-m', '1', '-d', '100']);
    expect(r.code).toBe(0);
    await relay.close();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{8}_\d{6}_[A-Za-z0-9._-]+\.jsonl$/);
    const text = readFileSync(join(dir, files[0]!), 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.kind === 'event').map((l) => l.event)).toEqual([
      'sip.invite',
      'client.answer',
      'sip.ack',
      'sip.bye',
    ]);
    expect(lines.at(-1)).toMatchObject({ kind: 'state', state: 'ended', done: true });
    const diagram = traceToMermaid(text);
    expect(diagram).toContain('P->>C: sip.invite');
    expect(diagram).toContain('C->>P: 180 Ringing');
    expect(diagram).toContain('C->>P: 200 OK (SDP answer), retransmitted until ACK');
    expect(diagram).toContain('A->>C: client.answer');
    expect(diagram).toContain('C-->>A: call.answered');
    expect(diagram).toContain('Note over C: established');
  });

  it('INSPECT=true: the local bridge streams live actor events to inspector pages (offline)', async () => {
    const port = await freeUdpPort(); // free for UDP and TCP
    const relay = await startTestRelay({
      INSPECT: 'true',
      INSPECT_PORT: String(port),
      RTP_PORT_START: '40900',
      RTP_PORT_END: '40999',
    });
    const seen: string[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.on('message', (data) => seen.push(String(data)));
    await new Promise((r) => ws.on('open', r));
    await new Promise((r) => setTimeout(r, 300)); // the inspector client connects to the bridge too
    const r = await sipp('uac', `127.0.0.1:${relay.sip.port}`, ['-s', 'relay', '-m', '1', '-d', '100']);
    expect(r.code).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    ws.close();
    await relay.close();
    const text = seen.join('\n');
    expect(text).toContain('sip.invite');
    expect(text).toContain('sip.bye');
  });
});

/** Local addresses listening on TCP `port` (from /proc/net/tcp and tcp6), e.g. "127.0.0.1" or "0.0.0.0". */
function tcpListeners(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '0A') continue; // LISTEN
      const [hex, p] = f[1]!.split(':') as [string, string];
      if (Number.parseInt(p, 16) !== port) continue;
      found.push(
        hex.length === 8
          ? (hex.match(/../g) ?? [])
              .reverse()
              .map((b) => Number.parseInt(b, 16))
              .join('.')
          : hex === '0'.repeat(32)
            ? '::'
            : hex,
      );
    }
  }
  return found;
}

describe('the inspector bridge (INSPECT=true)', () => {
  it('listens on WS_HOST only, refuses other sites, and pages cannot publish', async () => {
    const port = await freeUdpPort();
    const relay = await startTestRelay({ INSPECT: 'true', INSPECT_PORT: String(port) });
    try {
      expect(tcpListeners(port)).toEqual(['127.0.0.1']); // not *:port
      const url = `ws://127.0.0.1:${port}/`;
      expect(await wsAttempt(url, { Origin: 'https://evil.example' })).toBe(403);
      expect(await wsAttempt(url, { Origin: 'http://localhost:5173' })).toBe('open');
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('stately.ai/inspect');
      // a page that writes is not a publisher: the other page hears nothing from it
      const a = new WebSocket(url);
      const b = new WebSocket(url);
      const heard: string[] = [];
      b.on('message', (d) => heard.push(String(d)));
      await Promise.all([a, b].map((w) => new Promise((r) => w.on('open', r))));
      a.send(JSON.stringify({ type: '@xstate.event', fake: true }));
      await new Promise((r) => setTimeout(r, 200));
      expect(heard.filter((h) => h.includes('"fake"'))).toEqual([]);
      a.close();
      b.close();
    } finally {
      await relay.close();
    }
    expect(tcpListeners(port)).toEqual([]);
  });

  it('a taken INSPECT_PORT is a start-up error, and nothing the start opened stays open', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const sipPort = await freeUdpPort();
      await expect(
        startTestRelay({ INSPECT: 'true', INSPECT_PORT: String(port), SIP_LOCAL_PORT: String(sipPort) }),
      ).rejects.toThrow(/EADDRINUSE/);
      // the SIP socket opened before it is closed again: the port binds
      const { createSocket } = await import('node:dgram');
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(sipPort, '127.0.0.1', () => resolve());
      });
      s.close();
    } finally {
      taken.close();
    }
  });
});
