/** Runs fn repeatedly for ~ms milliseconds, `rounds` times; returns the median rate in operations per second. */
export function opsPerSecond(fn: () => void, ms = 700, rounds = 5): number {
  for (let i = 0; i < 2000; i++) fn(); // warm-up: let the JIT settle
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 100; i++) fn();
      n += 100;
      now = performance.now();
    }
    rates.push((n * 1000) / (now - start));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
