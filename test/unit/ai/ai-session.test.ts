import { describe, expect, it } from 'vitest';
import { AiSession, type AiSessionNote } from '../../../src/ai/ai-session.ts';
import { EchoConversation } from '../../../src/ai/providers/echo.ts';
import type { AiConversation, ReplyPart } from '../../../src/ai/providers/port.ts';
import { TurnDetector } from '../../../src/ai/turn-detector.ts';
import { EnergyVad } from '../../../src/ai/vad.ts';
import { PlayoutQueue } from '../../../src/media/playout-queue.ts';
import { frames20ms as framesOf, speechLike } from '../../helpers/audio.ts';

const flushAsync = () => new Promise((r) => setImmediate(r));
const silenceFrame = () => new Int16Array(160);

function setup(conversation: AiConversation = new EchoConversation()) {
  const playout = new PlayoutQueue();
  const notes: AiSessionNote[] = [];
  const timers: { ms: number; fire: () => void; live: boolean }[] = [];
  const session = new AiSession({
    vad: new EnergyVad(),
    turns: new TurnDetector({ endSilenceMs: 400 }),
    conversation,
    playout,
    apologyText: 'Sorry, please say that again.',
    setTimer: (ms, fire) => {
      const t = { ms, fire, live: true };
      timers.push(t);
      return () => {
        t.live = false;
      };
    },
    noReplyMs: 8000,
    onNote: (n) => void notes.push(n),
  });
  /** The caller's side of one 20 ms tick: a frame heard, a frame played (as the RTP scheduler does). */
  const tick = async (frame: Int16Array) => {
    session.onCallerFrame(frame);
    const played = playout.next();
    await flushAsync();
    return played;
  };
  return { session, playout, notes, timers, tick };
}

describe('AiSession with the echo provider, the energy VAD and a real playout queue', () => {
  it('listens, answers after the end of the turn, speaks, and listens again', async () => {
    const { session, notes, tick } = setup();
    const question = speechLike(8000, 1, 4);
    for (const f of framesOf(question)) await tick(f);
    expect(session.state).toBe('listening');
    let spokeAt = -1;
    const played: Int16Array[] = [];
    for (let i = 0; i < 200; i++) {
      const out = await tick(silenceFrame());
      if (out) {
        if (spokeAt < 0) spokeAt = i;
        played.push(out);
      }
      if (session.state === 'listening' && spokeAt >= 0) break;
    }
    // end of turn after 400 ms of silence, then the reply starts on the next tick
    expect(spokeAt).toBeGreaterThanOrEqual(19);
    expect(spokeAt).toBeLessThanOrEqual(22);
    expect(session.state).toBe('listening');
    // the echo is the caller's turn: its loud part is the question
    const loudFrames = (frames: Iterable<Int16Array>) =>
      [...frames].filter((f) => f.some((s) => Math.abs(s) > 1000)).length;
    expect(loudFrames(played)).toBe(loudFrames(framesOf(question)));
    // 200 ms prefix + the question up to its last syllable + 400 ms of silence
    expect(played.length).toBeGreaterThanOrEqual(60);
    expect(played.length).toBeLessThanOrEqual(82);
    expect(notes.map((n) => (n.type === 'timing' ? n.stage : n.type))).toEqual([
      'turn.ended',
      'transcript',
      'audio.queued',
      'reply.text', // after the audio, so the turn's latency is reported with it
      'played', // everything queued has been heard: deferred call control (end_call, transfer) may run
    ]);
    expect(session.context.turns).toBe(1);
  });

  it('barge-in: caller speech while we speak flushes the queue after bargeInMs (60 ms) of it', async () => {
    const { session, playout, notes, tick } = setup();
    for (const f of framesOf(speechLike(8000, 2, 5))) await tick(f);
    for (let i = 0; i < 25 && session.state !== 'speaking'; i++) await tick(silenceFrame());
    expect(session.state).toBe('speaking');
    await tick(silenceFrame());
    expect(playout.queuedFrames).toBeGreaterThan(50);
    const interruption = speechLike(8000, 1, 6);
    // the moment the VAD has heard 60 ms of speech (3 frames), counted independently
    const vad = new EnergyVad();
    let heard = 0;
    let expected = 0;
    for (const f of framesOf(interruption)) {
      expected++;
      if (vad.isSpeech(f) && ++heard === 3) break;
    }
    let ticks = 0;
    for (const f of framesOf(interruption)) {
      ticks++;
      await tick(f);
      if (session.state === 'listening') break;
    }
    expect(session.state).toBe('listening');
    expect(ticks).toBe(expected);
    expect(playout.queuedFrames).toBe(0);
    expect(notes.find((n) => n.type === 'flushed')).toMatchObject({ droppedFrames: expect.any(Number) });
    expect(session.context.bargeIns).toBe(1);
  });

  it('a click while the answer is being prepared (past the barge-in threshold, short of a turn) does not drop it', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: AiConversation = {
      async *respond(turn) {
        await gate;
        yield { type: 'audio', samples: turn.subarray(0, 1600) } as const;
      },
      async *say() {},
      interrupted() {},
      close() {},
    };
    const { session, tick } = setup(slow);
    for (const f of framesOf(speechLike(8000, 1, 5))) await tick(f);
    for (let i = 0; i < 25 && session.state !== 'thinking'; i++) await tick(silenceFrame());
    expect(session.state).toBe('thinking');
    // 100 ms of sound: past the barge-in threshold, short of a turn
    for (const f of framesOf(speechLike(8000, 0.1, 9))) await tick(f);
    expect(session.state).toBe('thinking');
    release();
    for (let i = 0; i < 3; i++) await tick(silenceFrame());
    expect(session.state).toBe('speaking');
  });

  it('a provider failure is reported and recovered from; the session listens again', async () => {
    const failing: AiConversation = {
      // biome-ignore lint/correctness/useYield: fails before its first part, as a 503 would
      async *respond(): AsyncIterable<ReplyPart> {
        throw new Error('503 Service Unavailable');
      },
      async *say(text: string) {
        yield { type: 'reply.text', text } as const;
      },
      interrupted() {},
      close() {},
    };
    const { session, notes, tick } = setup(failing);
    for (const f of framesOf(speechLike(8000, 1, 7))) await tick(f);
    for (let i = 0; i < 30; i++) await tick(silenceFrame());
    expect(notes).toContainEqual({ type: 'error', reason: '503 Service Unavailable' });
    expect(notes).toContainEqual({ type: 'reply.text', text: 'Sorry, please say that again.' });
    expect(session.state).toBe('listening');
    expect(session.context).toMatchObject({ failures: 1, lastFailure: '503 Service Unavailable' });
  });

  it('a silent provider hits the no-reply timer; its late audio is ignored', async () => {
    let release: () => void = () => {};
    const slow: AiConversation = {
      async *respond() {
        await new Promise<void>((r) => (release = r));
        yield { type: 'audio', samples: new Int16Array(1600).fill(5000) } as const;
      },
      async *say(text: string) {
        yield { type: 'reply.text', text } as const;
      },
      interrupted() {},
      close() {},
    };
    const { session, playout, timers, tick } = setup(slow);
    for (const f of framesOf(speechLike(8000, 1, 8))) await tick(f);
    for (let i = 0; i < 25; i++) await tick(silenceFrame());
    expect(session.state).toBe('thinking');
    expect(timers.at(-1)).toMatchObject({ ms: 8000, live: true });
    timers.at(-1)!.fire();
    await tick(silenceFrame());
    release();
    for (let i = 0; i < 3; i++) await tick(silenceFrame());
    expect(session.state).toBe('listening');
    expect(playout.playedFrames).toBe(0);
    expect(session.context.lastFailure).toBe('timeout');
  });

  it('the call ending closes the session and empties the queue', async () => {
    const { session, playout, tick } = setup();
    for (const f of framesOf(speechLike(8000, 1, 9))) await tick(f);
    for (let i = 0; i < 25 && session.state !== 'speaking'; i++) await tick(silenceFrame());
    session.end();
    expect(session.state).toBe('closed');
    expect(playout.queuedFrames).toBe(0);
  });
});
