// The render stage: a checked-out tree plus render options in, a list of objects out.
export { renderDirectory, type DirectoryRenderInput } from "./directory.ts";
export type { DecryptFn, RenderedObject, SopsFormat } from "./types.ts";
