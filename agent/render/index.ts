// The render stage: a checked-out tree plus render options in, a list of objects out.
export { renderDirectory, type DirectoryRenderInput } from "./directory.ts";
export type { DecryptFn, RenderedObject, SopsFormat } from "./types.ts";
export { renderApplication, detectType, explicitType, type ApplicationRenderInput, type SourceType } from "./application.ts";
export { renderKustomize, type KustomizeRenderInput } from "./kustomize.ts";
export { renderHelm, type HelmRenderInput } from "./helm.ts";
export { renderSources, resolveSources, sourcesOf, type GitTrees, type SourcesRender, type SourcesRenderInput } from "./sources.ts";
export { renderChart, type ChartRenderInput } from "./chart.ts";
export type { DependencyFetch } from "./chart-deps.ts";
export { adoptArgoCdManifests, type Adopted } from "./argocd.ts";
