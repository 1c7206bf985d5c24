// Helm's `.Capabilities` of a destination cluster, read from discovery: its version and every API it
// serves, each group/version and group/version/Kind as Argo CD lists them. One cluster client reads
// them once per TTL, so a render asks nothing when nothing was due.
import type { Capabilities } from "../render/types.ts";

/** One group/version and the kinds served in it (subresources left out). */
export interface ServedGroupVersion {
  readonly groupVersion: string;
  readonly kinds: readonly string[];
}

/** Argo CD's `APIResourcesToStrings(resources, true)`: every group/version, and group/version/Kind, sorted. */
export function apiVersionStrings(served: readonly ServedGroupVersion[]): string[] {
  const out = new Set<string>();
  for (const gv of served) {
    out.add(gv.groupVersion);
    for (const kind of gv.kinds) out.add(`${gv.groupVersion}/${kind}`);
  }
  return [...out].sort();
}

/** How long a cluster's capabilities are reused: a CRD installed since shows up within this time. */
export const CAPABILITIES_TTL_MS = 3 * 60_000;

/** Keeps one cluster's capabilities for {@link CAPABILITIES_TTL_MS}; concurrent callers share one read. */
export class CapabilitiesCache {
  private value: { readonly at: number; readonly read: Promise<Capabilities> } | undefined;

  constructor(private readonly read: () => Promise<Capabilities>, private readonly now: () => number = Date.now) {}

  get(): Promise<Capabilities> {
    const cached = this.value;
    if (cached !== undefined && this.now() - cached.at < CAPABILITIES_TTL_MS) return cached.read;
    const read = this.read();
    this.value = { at: this.now(), read };
    // A failed read is not kept: the next render asks again.
    void read.catch(() => {
      if (this.value?.read === read) this.value = undefined;
    });
    return read;
  }
}
