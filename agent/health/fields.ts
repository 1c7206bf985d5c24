// Safe reads from objects as the API server returns them. Health checks see every kind, including
// ones whose status the controller has not written yet, so every read tolerates a missing or
// mistyped field instead of trusting a type assertion.

/** A JSON object read from the cluster: any field may be missing or of an unexpected type. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** One entry of `status.conditions`, as every built-in controller writes it. */
export interface StatusCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path`, or undefined when any step is missing or not an object. */
export function field(obj: unknown, ...path: readonly string[]): unknown {
  let current = obj;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function num(obj: unknown, ...path: readonly string[]): number | undefined {
  const value = field(obj, ...path);
  return typeof value === "number" ? value : undefined;
}

export function str(obj: unknown, ...path: readonly string[]): string | undefined {
  const value = field(obj, ...path);
  return typeof value === "string" ? value : undefined;
}

export function list(obj: unknown, ...path: readonly string[]): readonly unknown[] {
  const value = field(obj, ...path);
  return Array.isArray(value) ? value : [];
}

/** The well-formed entries of `status.conditions`. */
export function conditions(obj: unknown): StatusCondition[] {
  return list(obj, "status", "conditions").flatMap((c) => {
    const type = str(c, "type");
    const status = str(c, "status");
    if (type === undefined || status === undefined) return [];
    return [{ type, status, reason: str(c, "reason"), message: str(c, "message") }];
  });
}

export function condition(obj: unknown, type: string): StatusCondition | undefined {
  return conditions(obj).find((c) => c.type === type);
}
