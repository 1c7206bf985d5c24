/** Why a reconcile stopped: the condition type written on the Application, and the Event reason. */
export type Reason =
  | "SourceFailed"
  | "RenderFailed"
  | "DecryptionFailed"
  | "PlaintextSecret"
  | "PolicyViolation"
  | "SharedResource"
  | "ApplyFailed"
  | "PruneFailed"
  | "HealthCheckFailed"
  | "EmptyRender";

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

/** The text of any thrown value, for wrapping foreign errors. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
