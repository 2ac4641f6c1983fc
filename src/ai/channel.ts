/**
 * A one-reader queue between a producer task and an async generator: the LLM stream pushes sentences while
 * the speech side reads them in order. `fail` hands the producer's error to the reader.
 */
export class Channel<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;
  #done = false;
  #error: unknown;
  #failed = false;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  end(): void {
    this.#done = true;
    this.#wake?.();
  }

  fail(err: unknown): void {
    this.#failed = true;
    this.#error = err;
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        yield this.#items.shift()!;
        continue;
      }
      if (this.#failed) throw this.#error;
      if (this.#done) return;
      await new Promise<void>((r) => {
        this.#wake = r;
      });
      this.#wake = undefined;
    }
  }
}
