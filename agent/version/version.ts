// Which Tether this is: the package version, and for a bundle the commit it was built from. The CLI
// prints it (`tether version`), the agent serves it (`GET /version`), and the two are compared.
import pkg from "../../package.json" with { type: "json" };

/** Set by tools/bundle.mjs (esbuild `define`); absent when running the TypeScript sources through tsx. */
declare const __TETHER_BUILD__: { readonly commit: string; readonly builtAt: string } | undefined;

export const VERSION: string = pkg.version;

export interface VersionInfo {
  readonly version: string;
  /** The git commit the bundle was built from (`-dirty` with uncommitted changes), or `source` under tsx. */
  readonly commit: string;
  readonly builtAt?: string;
  readonly node: string;
  readonly platform: string;
}

export function versionInfo(): VersionInfo {
  const build = typeof __TETHER_BUILD__ === "undefined" ? undefined : __TETHER_BUILD__;
  return {
    version: VERSION,
    commit: build?.commit ?? "source",
    ...(build?.builtAt ? { builtAt: build.builtAt } : {}),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}

/** The body of the agent's `GET /version`. */
export function versionBody(): string {
  return `${JSON.stringify(versionInfo())}\n`;
}
