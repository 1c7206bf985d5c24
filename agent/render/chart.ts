// Charts from chart repositories and OCI registries (`spec.source.chart`). The fetching is the source
// stage's (agent/source/helm-repo.ts); here the archive is unpacked into a throwaway directory and
// rendered by the Helm renderer like a chart committed to Git, dependencies included (chart-deps.ts).
import { readdir } from "node:fs/promises";
import type { HelmSource } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { argv, runTool } from "../exec.ts";
import type { FetchedChart } from "../source/helm-repo.ts";
import { notPermitted, type DependencyFetch } from "./chart-deps.ts";
import { renderHelm } from "./helm.ts";
import { findExecutable, scratch } from "./tool.ts";
import type { Capabilities, RenderedObject } from "./types.ts";

/** `spec.source` of a chart from a repository: `repoURL` + `chart` + `targetRevision`. */
export interface ChartSourceSpec {
  readonly repoURL: string;
  readonly chart: string;
  readonly targetRevision?: string;
  readonly helm?: HelmSource;
}

export interface ChartRenderInput {
  readonly source: ChartSourceSpec;
  readonly fetch: DependencyFetch;
  /** `helm.releaseName`, else the Application's name. */
  readonly releaseName: string;
  readonly namespace?: string;
  /** Checkouts of the sources with a `ref`, for `$ref/path` value files (multiple sources). */
  readonly valueRoots?: Readonly<Record<string, string>>;
  /** The destination's version and APIs, for Helm's `.Capabilities`. */
  readonly capabilities?: Capabilities;
}

/** The objects of the chart and the version `targetRevision` resolved to (the source's revision). */
export interface ChartRender {
  readonly objects: RenderedObject[];
  readonly version: string;
}

/** Fetches, unpacks and renders a chart from a chart repository or OCI registry. */
export async function renderChart(input: ChartRenderInput): Promise<ChartRender> {
  const { source } = input;
  if (input.fetch.allowRepo?.(source.repoURL) === false) throw notPermitted(source.repoURL, `chart ${source.chart}`);
  const fetched = await input.fetch.charts.fetch({ repoURL: source.repoURL, chart: source.chart, ...(source.targetRevision === undefined ? {} : { targetRevision: source.targetRevision }) });
  const space = await scratch("chart");
  try {
    const root = await space.sub("chart");
    const path = await unpack(fetched, root);
    const objects = await renderHelm({
      root, path, releaseName: input.releaseName, dependencies: input.fetch,
      ...(source.helm ? { helm: source.helm } : {}),
      ...(input.namespace ? { namespace: input.namespace } : {}),
      ...(input.valueRoots ? { valueRoots: input.valueRoots } : {}),
      ...(input.capabilities ? { capabilities: input.capabilities } : {}),
    });
    return { objects, version: fetched.version };
  } finally {
    await space.cleanup();
  }
}

/** Unpacks the archive into `root`; returns the chart's directory relative to it. */
async function unpack(fetched: FetchedChart, root: string): Promise<string> {
  const tar = await findExecutable("tar", process.env.PATH ?? "/usr/bin:/bin");
  // --no-same-owner/permissions: the archive's owners and modes are the publisher's, not ours.
  // GNU tar refuses members with `..`; symlinks out of the chart are refused by the Helm renderer.
  const args = argv({ options: ["-x", "-z", `--file=${fetched.archive}`, `--directory=${root}`, "--no-same-owner", "--no-same-permissions"] });
  const result = await runTool(tar, args, { reject: false });
  const entries = await readdir(root);
  if (result.exitCode !== 0 || entries.length !== 1) {
    throw new TetherError("SourceFailed", `chart ${fetched.chart} ${fetched.version}: the archive is not a Helm chart (${result.exitCode !== 0 ? result.stderr.split("\n")[0] ?? "" : `${entries.length} top-level entries`})`, { object: `chart ${fetched.chart}` });
  }
  return entries[0]!;
}

