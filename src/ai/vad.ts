import fvad from '@echogarden/fvad-wasm';

/** A voice activity detector over 20 ms frames of 8 kHz 16-bit audio. */
export interface Vad {
  isSpeech(frame: Int16Array): boolean;
  reset(): void;
}

/**
 * The simple detector: RMS above a threshold (default -40 dBFS). Good as a fallback and as a deterministic
 * test double; it cannot tell speech from steady noise, which the WebRTC VAD can.
 */
export class EnergyVad implements Vad {
  readonly #threshold: number;
  constructor(thresholdDbfs = -40) {
    this.#threshold = 32768 * 10 ** (thresholdDbfs / 20);
  }
  isSpeech(frame: Int16Array): boolean {
    let sum = 0;
    for (let i = 0; i < frame.length; i++) sum += frame[i]! * frame[i]!;
    return Math.sqrt(sum / Math.max(1, frame.length)) > this.#threshold;
  }
  reset(): void {}
}

interface FvadModule {
  _fvad_new(): number;
  _fvad_free(inst: number): void;
  _fvad_reset(inst: number): void;
  _fvad_set_mode(inst: number, mode: number): number;
  _fvad_set_sample_rate(inst: number, rate: number): number;
  _fvad_process(inst: number, ptr: number, samples: number): number;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAP16: Int16Array;
}

let module: Promise<FvadModule> | undefined;

/**
 * WebRTC's VAD (libfvad compiled to WebAssembly, @echogarden/fvad-wasm, 38 kB, nothing to download), one
 * instance per call. Mode 0 (quality) .. 3 (very aggressive: fewer false positives on noise).
 */
export async function createWebRtcVad(mode: 0 | 1 | 2 | 3 = 2): Promise<Vad & { free(): void }> {
  module ??= (fvad as unknown as () => Promise<FvadModule>)();
  const m = await module;
  const inst = m._fvad_new();
  if (m._fvad_set_mode(inst, mode) !== 0 || m._fvad_set_sample_rate(inst, 8000) !== 0) {
    m._fvad_free(inst);
    throw new Error('fvad rejected mode or sample rate');
  }
  const ptr = m._malloc(160 * 2);
  return {
    isSpeech(frame) {
      m.HEAP16.set(frame.subarray(0, 160), ptr >> 1);
      return m._fvad_process(inst, ptr, 160) === 1;
    },
    reset() {
      m._fvad_reset(inst);
    },
    free() {
      m._free(ptr);
      m._fvad_free(inst);
    },
  };
}
