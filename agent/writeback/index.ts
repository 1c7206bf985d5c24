// Write-back: changes committed and pushed to Git with the repository's credential (agent/imageupdater, promotion).
export {
  EditError, kustomizeImageName, kustomizeImages, setHelmValue, setKustomizeImage, setSourceOverride,
  type HelmParameter, type KustomizeImage, type SourceOverride,
} from "./edits.ts";
export {
  DEFAULT_AUTHOR, GitWriter, isNonFastForward,
  type CommitAuthor, type EditOutcome, type GitWriterOptions, type WriteRequest, type WriteResult,
} from "./git.ts";
