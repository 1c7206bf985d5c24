// The plugin generator: Argo CD's HTTP plugin API. The ConfigMap named by `configMapRef` holds `baseUrl`,
// `token` (a `$secret:key` reference) and optionally `requestTimeout` (seconds); the generator POSTs
// `{applicationSetName, input: {parameters}}` to `<baseUrl>/api/v1/getparams.execute` with the token as a
// bearer token and reads `{output: {parameters: [...]}}`.
import { fromDecoded } from "../../template/sprig.ts";
import { isMap } from "../../template/values.ts";
import { GeneratorError } from "./errors.ts";
import type { GeneratorEnv } from "./index.ts";
import type { Params, RenderMode } from "./render.ts";
import { flattenParams } from "./selector.ts";
import type { PluginGenerator } from "./types.ts";
import { withValues } from "./values.ts";

const DEFAULT_TIMEOUT_SECONDS = 30;
const MAX_RESPONSE_BYTES = 4 << 20;

export async function pluginParams(gen: PluginGenerator, env: GeneratorEnv, mode: RenderMode, setName: string): Promise<Params[]> {
  const cmName = gen.configMapRef?.name;
  if (typeof cmName !== "string" || cmName === "") throw new GeneratorError("ErrorOccurred", "configMapRef.name is required");
  if (env.configMap === undefined || env.secretValue === undefined) {
    throw new GeneratorError("ErrorOccurred", "plugin generators need ConfigMap and Secret access, which this caller does not give");
  }
  const cm = await env.configMap(cmName);
  if (cm === undefined) throw paramsError(`ConfigMap ${cmName} not found in the agent's namespace: create it with baseUrl and token`);
  const baseUrl = cm.baseUrl;
  if (baseUrl === undefined || baseUrl === "") throw paramsError(`ConfigMap ${cmName} has no baseUrl`);
  const tokenRef = cm.token;
  if (tokenRef === undefined || tokenRef === "" || !tokenRef.startsWith("$")) {
    throw paramsError(`ConfigMap ${cmName}: token must reference a Secret key starting with '$' ($secret-name:key)`);
  }
  const token = await env.secretValue(tokenRef);
  if (token === undefined) throw paramsError(`the Secret key '${tokenRef}' named by ConfigMap ${cmName}'s token does not exist`);
  const timeout = cm.requestTimeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(cm.requestTimeout);
  if (!Number.isInteger(timeout) || timeout <= 0) throw paramsError(`ConfigMap ${cmName}: requestTimeout '${cm.requestTimeout}' is not a number of seconds`);
  const parameters = gen.input?.parameters ?? {};
  const output = await call(baseUrl, token, timeout, { applicationSetName: setName, input: { parameters } });
  return output.map((obj) => {
    const base: Record<string, unknown> = mode.goTemplate ? { ...obj } : { ...flattenParams(obj) };
    base.generator = { input: { parameters: fromDecoded(parameters) } };
    return withValues(base, gen.values, mode);
  });
}

async function call(baseUrl: string, token: string, timeoutSeconds: number, body: unknown): Promise<Array<Record<string, unknown>>> {
  const url = `${baseUrl.replace(/\/+$/, "")}/api/v1/getparams.execute`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
  } catch (err) {
    const e = err as Error;
    const why = e.name === "TimeoutError" ? `no answer within ${timeoutSeconds}s (requestTimeout)` : `${e.message}${causeOf(e)}`;
    throw paramsError(`plugin at ${url}: ${why}`);
  }
  const text = await response.text();
  if (!response.ok) throw paramsError(`plugin at ${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
  if (text.length > MAX_RESPONSE_BYTES) throw paramsError(`plugin at ${url} answered more than ${MAX_RESPONSE_BYTES} bytes`);
  let data: unknown;
  try {
    data = fromDecoded(JSON.parse(text));
  } catch {
    throw paramsError(`plugin at ${url} did not answer JSON`);
  }
  const params = isMap(data) && isMap(data.output) ? data.output.parameters : undefined;
  if (params === undefined || params === null) return [];
  if (!Array.isArray(params) || !params.every(isMap)) {
    throw paramsError(`plugin at ${url}: output.parameters must be a list of objects`);
  }
  return params;
}

function causeOf(e: Error): string {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : "";
}

function paramsError(message: string): GeneratorError {
  return new GeneratorError("ApplicationGenerationFromParamsError", message);
}
