// A generator's `values`: each value is rendered with the element's own parameters (never with other
// values, so values cannot expand each other), then added as `values.k` (fasttemplate) or `.values.k`.
import type { Params, RenderMode } from "./render.ts";
import { renderString } from "./render.ts";

export function withValues(params: Params, values: Readonly<Record<string, string>> | undefined, mode: RenderMode): Params {
  if (values === undefined || Object.keys(values).length === 0) return params;
  const rendered: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) rendered[k] = renderString(String(v), params, mode);
  if (mode.goTemplate) return { ...params, values: rendered };
  const out: Record<string, unknown> = { ...params };
  for (const [k, v] of Object.entries(rendered)) out[`values.${k}`] = v;
  return out;
}
