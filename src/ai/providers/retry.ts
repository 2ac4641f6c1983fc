/**
 * Retries a provider request that failed for a reason that may pass (429 rate limit, 5xx, a timeout or a
 * dropped connection), with exponential backoff; a 4xx such as 401 (bad key) or 400 fails at once. Only the
 * request is retried, never a stream that already delivered data (the caller would hear a repeat).
 */
export interface RetryOptions {
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly signal: AbortSignal;
  readonly onRetry: (info: {
    attempt: number;
    status: number | undefined;
    reason: string;
    waitMs: number;
  }) => void;
}

export function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

export function isRetryable(err: unknown): boolean {
  if ((err as { name?: string } | null)?.name === 'AbortError') return false;
  const status = statusOf(err);
  if (status === undefined) return true; // timeout, connection refused or reset
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The server's Retry-After (seconds) when it sent one, capped so a caller never waits long. */
function retryAfterMs(err: unknown): number | undefined {
  const h = (err as { headers?: Headers | Record<string, string> } | null)?.headers;
  const v = h instanceof Headers ? h.get('retry-after') : h?.['retry-after'];
  const n = v === undefined || v === null ? Number.NaN : Number(v);
  return Number.isFinite(n) ? Math.min(n * 1000, 2000) : undefined;
}

export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (o.signal.aborted || attempt >= o.retries || !isRetryable(err)) throw err;
      const waitMs = retryAfterMs(err) ?? o.baseDelayMs * 2 ** attempt;
      o.onRetry({
        attempt: attempt + 1,
        status: statusOf(err),
        reason: err instanceof Error ? err.message : String(err),
        waitMs,
      });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, waitMs);
        o.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      if (o.signal.aborted) throw err;
    }
  }
}
