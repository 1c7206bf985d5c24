// apiVersion and API paths, parsed in one place: `apps/v1` → group `apps`, version `v1`; `v1` → the
// core group; `/apis/apps/v1` or `/api/v1` as the path the API server serves them under.

export function splitApiVersion(apiVersion: string): { readonly group: string; readonly version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The discovery and resource path prefix of an apiVersion. */
export function apiBase(apiVersion: string): string {
  return splitApiVersion(apiVersion).group ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}
