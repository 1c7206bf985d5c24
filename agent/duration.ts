// Durations as Kubernetes and Argo CD spell them (Go's time.ParseDuration): `5s`, `3m`, `1m30s`, `250ms`.

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a Go-style duration; throws a message naming the value and the accepted form. */
export function parseDuration(value: string): number {
  const text = value.trim();
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new Error(`"${value}" is not a duration: use a number with a unit, e.g. 5s, 3m, 1m30s or 250ms`);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNITS[p[2] ?? "s"] ?? 1), 0);
}
