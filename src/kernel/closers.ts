/**
 * The order a relay's parts close in, whether a start-up failed half-way or the relay shuts down: the
 * calls first (hung up while everything they use still runs), then the clients' doors, the media (every
 * recording finalised), what records the calls (complete once their recordings are), the signalling, and
 * last what the process itself holds.
 */
export const PHASES = ['calls', 'clients', 'media', 'records', 'signalling', 'process'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * One ordered stack of closers: each part registers how it closes as soon as it is open, in its phase.
 * `run()` closes phase by phase in PHASES order, the newest first within a phase, and runs every closer
 * even when one fails (the first failure is rethrown at the end). Runs once.
 */
export class Closers {
  readonly #steps: Array<{ readonly phase: Phase; readonly close: () => unknown }> = [];
  #ran: Promise<void> | undefined;

  add(phase: Phase, close: () => unknown): void {
    this.#steps.push({ phase, close });
  }

  run(): Promise<void> {
    this.#ran ??= this.#run();
    return this.#ran;
  }

  async #run(): Promise<void> {
    let failure: unknown;
    for (const phase of PHASES)
      for (const step of this.#steps.filter((s) => s.phase === phase).reverse()) {
        try {
          await step.close();
        } catch (e) {
          failure ??= e;
        }
      }
    if (failure !== undefined) throw failure;
  }
}
