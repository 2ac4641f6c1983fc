import { describe, expect, it } from 'vitest';
import { type CallTools, chatTools, realtimeTools, runTool, TOOL_NAMES } from '../../../src/ai/tools.ts';

function fakeCall() {
  const done: string[] = [];
  const call: CallTools = {
    transfer: (t) => {
      if (t === 'sip:evil@192.0.2.1') return { ok: false, error: 'not allowed' };
      done.push(`transfer:${t}`);
      return { ok: true, target: t ?? 'default' };
    },
    endCall: () => void done.push('end'),
    sendDtmf: (d) => {
      done.push(`dtmf:${d}`);
      return { ok: true };
    },
  };
  return { call, done };
}

describe('AI tools', () => {
  it('described for both APIs, only those enabled', () => {
    expect(chatTools([...TOOL_NAMES]).map((t) => t.function.name)).toEqual([
      'transfer_call',
      'end_call',
      'send_dtmf',
    ]);
    expect(realtimeTools(['end_call'])).toEqual([
      expect.objectContaining({ type: 'function', name: 'end_call' }),
    ]);
    for (const t of chatTools([...TOOL_NAMES])) expect(t.function.description.length).toBeGreaterThan(60);
  });

  it('runs a valid call; refuses bad JSON, bad arguments, unknown and disabled tools without touching the call', () => {
    const { call, done } = fakeCall();
    const all = [...TOOL_NAMES];
    expect(runTool(all, 'transfer_call', '{"target":"1002"}', call)).toMatchObject({
      ok: true,
      result: { target: '1002' },
    });
    expect(runTool(all, 'transfer_call', '', call)).toMatchObject({
      ok: true,
      result: { target: 'default' },
    });
    expect(runTool(all, 'transfer_call', '{"target":"sip:evil@192.0.2.1"}', call)).toMatchObject({
      ok: false,
      result: { error: 'not allowed' },
    });
    expect(runTool(all, 'send_dtmf', '{"digits":"12#"}', call).ok).toBe(true);
    expect(runTool(all, 'send_dtmf', '{"digits":"12; rm -rf"}', call)).toMatchObject({ ok: false });
    expect(runTool(all, 'send_dtmf', '{digits:1}', call)).toMatchObject({
      ok: false,
      result: { error: 'arguments are not valid JSON' },
    });
    expect(runTool(all, 'format_disk', '{}', call)).toMatchObject({ ok: false });
    expect(runTool(['end_call'], 'transfer_call', '{}', call)).toMatchObject({
      ok: false,
      result: { error: 'no tool named transfer_call' },
    });
    expect(runTool(all, 'end_call', '{}', call).ok).toBe(true);
    expect(done).toEqual(['transfer:1002', 'transfer:undefined', 'dtmf:12#', 'end']);
  });
});
