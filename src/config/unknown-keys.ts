/**
 * Keys that look like settings but are not ours: a typo (`SIP_PORT` for `SIP_LOCAL_PORT`) would otherwise
 * do nothing at all, silently. Every key of the `.env` file is checked; of the real environment only the
 * keys with our prefixes (the environment holds much else).
 */
const PREFIXES = [
  'SIP_',
  'RTP_',
  'WS_',
  'AI_',
  'CALL_',
  'RECORDING',
  'MEDIA_',
  'METRICS_',
  'INSPECT',
  'MAX_',
];

/** Keys of ours that are gone, with what to do instead. */
const RETIRED: Readonly<Record<string, string>> = {
  WS_URL: 'the call center runs inside the relay; remove it',
};

/**
 * Names other SIP servers use for our settings, where the closest-by-spelling rule would guess another
 * (SIP_PORT shares as many words with SIP_TLS_PORT as with SIP_LOCAL_PORT, and fewer edits).
 */
const COMMON: Readonly<Record<string, string>> = { SIP_PORT: 'SIP_LOCAL_PORT', SIP_IP: 'SIP_LOCAL_IP' };

/** Keys of the environment that are not settings but are ours to read (tests, tools). */
const OTHER_KNOWN = new Set(['SIP_VECTORS_DIR']);

const tokens = (k: string) => k.split('_').filter(Boolean);

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The setting a mistyped key most likely meant: most words in common (SIP_PORT -> SIP_LOCAL_PORT), then
 * the fewest edits (SIP_LOCL_IP -> SIP_LOCAL_IP); undefined when nothing is close.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const common = COMMON[key];
  if (common && known.includes(common)) return common;
  const mine = new Set(tokens(key));
  let best: { key: string; shared: number; edits: number } | undefined;
  for (const k of known) {
    const shared = tokens(k).filter((t) => mine.has(t)).length;
    const edits = editDistance(key, k);
    if (shared === 0 && edits > 3) continue;
    if (!best || shared > best.shared || (shared === best.shared && edits < best.edits))
      best = { key: k, shared, edits };
  }
  return best?.key;
}

/** One warning per unknown key: from the .env file (all keys) and the environment (our prefixes only). */
export function unknownKeyWarnings(
  known: readonly string[],
  fromFile: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
  envFile = '.env',
): string[] {
  const knownSet = new Set(known);
  const out: string[] = [];
  const seen = new Set<string>();
  const check = (key: string, where: string) => {
    if (knownSet.has(key) || OTHER_KNOWN.has(key) || seen.has(key)) return;
    seen.add(key);
    if (RETIRED[key]) {
      out.push(`${key} (${where}) is no longer used: ${RETIRED[key]}`);
      return;
    }
    const near = closestKey(key, known);
    out.push(`${key} (${where}) is not a setting and does nothing${near ? `: did you mean ${near}?` : ''}`);
  };
  for (const key of Object.keys(fromFile)) check(key, envFile);
  for (const key of Object.keys(env)) if (PREFIXES.some((p) => key.startsWith(p))) check(key, 'environment');
  return out;
}
