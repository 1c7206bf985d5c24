/** Why a reconcile stopped: the condition type written on the Application, and the Event reason. */
export type Reason =
  | "SourceFailed"
  | "RenderFailed"
  | "DecryptionFailed"
  | "PlaintextSecret"
  | "PolicyViolation"
  | "SharedResource"
  | "PruneFailed"
  | "HealthCheckFailed"
  | "EmptyRender"
  /** A render read or produced more than the agent's limits (agent/render/limits.ts). */
  | "RenderTooLarge"
  /** The spec names something that does not exist (a destination cluster), as Argo CD's condition. */
  | "InvalidSpecError"
  /** The live state could not be read or compared (a cluster unreachable). */
  | "ComparisonError"
  /** A sync operation could not start or go on (its record could not be written), as Argo CD's condition. */
  | "SyncError"
  /** A container registry could not be read: unreachable, refused the credentials, or lacks the image (agent/registry). */
  | "RegistryFailed"
  /** A change could not be written back to Git: clone, edit, render check or push (agent/writeback). */
  | "WriteBackFailed";

export interface TetherErrorOptions {
  /** The object concerned, as `Kind/namespace/name` (or a file path inside the repository). */
  readonly object?: string;
  /** Whether trying again later can help: a bad manifest cannot, an unreachable server can. */
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/**
 * Every failure a reconcile reports. `message` is for a person and says what to do; it never holds
 * decrypted data or a temporary path.
 */
export class TetherError extends Error {
  readonly reason: Reason;
  readonly object: string | undefined;
  readonly retryable: boolean;

  constructor(reason: Reason, message: string, opts: TetherErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "TetherError";
    this.reason = reason;
    this.object = opts.object;
    this.retryable = opts.retryable ?? false;
  }
}

/**
 * The text of any thrown value, for wrapping foreign errors. API server errors become
 * `HTTP 409: <the server's message>` instead of client-node's multi-line dump with headers.
 */
export function errorMessage(err: unknown): string {
  const api = err as { code?: unknown; body?: unknown };
  if (typeof api.code === "number" && api.body !== undefined) {
    const body = typeof api.body === "string" ? safeParse(api.body) : api.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    if (typeof message === "string") return `HTTP ${api.code}: ${message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
