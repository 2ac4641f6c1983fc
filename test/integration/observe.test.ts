import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { traceToMermaid } from '../../src/machines/trace-diagram.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';

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
    const port = await freeUdpPort(); // a free number; TCP and UDP are separate spaces but this one is unused
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
