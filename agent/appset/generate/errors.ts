// Why a generator failed, with Argo CD's ApplicationSet condition reasons.

/** Argo CD's reasons for an ApplicationSet's ErrorOccurred condition, as far as generating goes. */
export type GenerateReason =
  /** A generator could not produce its parameters (git unreachable, a bad file, a plugin's error). */
  | "ApplicationGenerationFromParamsError"
  /** Parameters could not be rendered into the template (a template error, a missing key). */
  | "RenderTemplateParamsError"
  /** A generated Application is not valid (its name is not a DNS-1123 subdomain...). */
  | "ApplicationValidationError"
  /** The spec itself is malformed (no generator, two kinds in one, an unknown option). */
  | "ErrorOccurred";

/** Thrown inside the generators; `generateApplications` turns it into its `ok: false` result. */
export class GeneratorError extends Error {
  readonly reason: GenerateReason;
  /** The generator's path when it is deeper than the one being run (a matrix's child). */
  readonly generator: string | undefined;
  constructor(reason: GenerateReason, message: string, generator?: string) {
    super(message);
    this.name = "GeneratorError";
    this.reason = reason;
    this.generator = generator;
  }
}
