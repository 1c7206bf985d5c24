// The render stage: a checked-out tree plus render options in, a list of objects out.
export { renderDirectory, type DirectoryRenderInput } from "./directory.ts";
export type { DecryptFn, RenderedObject, SopsFormat } from "./types.ts";
export { renderApplication, detectType, explicitType, type ApplicationRenderInput, type SourceType } from "./application.ts";
export { renderKustomize, type KustomizeRenderInput } from "./kustomize.ts";
export { renderHelm, type HelmRenderInput } from "./helm.ts";
