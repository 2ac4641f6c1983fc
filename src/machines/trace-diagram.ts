/**
 * Turns a call trace (JSON lines from CALL_TRACE_DIR) into a mermaid sequence diagram: the SIP peer, the call
 * actor, and the clients and timers that drive it. Pure, so it is tested without files.
 */
interface Line {
  kind: 'event' | 'action' | 'state';
  callId: string;
  event?: string;
  data?: Record<string, unknown>;
  action?: string;
  params?: Record<string, unknown>;
  state?: string;
}

const TO_PEER: Record<string, (p?: Record<string, unknown>) => string> = {
  sendRinging: () => '180 Ringing',
  sendAnswer: () => '200 OK (SDP answer), retransmitted until ACK',
  sendReject: (p) => `${p?.status ?? ''} (reject)`,
  sendRequestTerminated: () => '487 Request Terminated',
  sendInvite: () => 'INVITE (SDP offer)',
  sendCancel: () => 'CANCEL',
  sendAck: () => 'ACK',
  sendBye: () => 'BYE',
};

export function traceToMermaid(jsonl: string): string {
  const lines = jsonl
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Line);
  const callId = lines[0]?.callId ?? 'call';
  const out = [
    'sequenceDiagram',
    '  participant P as SIP peer',
    `  participant C as call ${callId.slice(0, 24)}`,
    '  participant A as clients and timers',
  ];
  let lastState = '';
  for (const l of lines) {
    if (l.kind === 'event' && l.event) {
      const from = l.event.startsWith('sip.') ? 'P' : 'A';
      const detail = l.data ? ` ${Object.values(l.data).join(' ')}` : '';
      out.push(`  ${from}->>C: ${l.event}${detail}`);
    } else if (l.kind === 'action' && l.action) {
      const toPeer = TO_PEER[l.action];
      if (toPeer) out.push(`  C->>P: ${toPeer(l.params)}`);
      else if (l.action === 'emit') out.push(`  C-->>A: ${String(l.params?.type ?? '')}`);
    } else if (l.kind === 'state' && l.state && l.state !== lastState) {
      lastState = l.state;
      out.push(`  Note over C: ${l.state}`);
    }
  }
  return `${out.join('\n')}\n`;
}
