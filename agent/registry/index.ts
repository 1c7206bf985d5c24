// Container registries: the OCI distribution API (read-only), credentials, and tag selection.
export { basicAuth, parseChallenges } from "./auth.ts";
export {
  MANIFEST_TYPES, RegistryClient, nextPage, pickPlatform,
  type Manifest, type ManifestJSON, type Platform, type RegistryAuth, type RegistryClientOptions,
  type RegistryCredentialsProvider, type TagInfo,
} from "./client.ts";
export { discoverTags, type DiscoverOptions, type Discovery } from "./discover.ts";
export { PullSecretError, dockerConfigAuth, repositoryAuth } from "./credentials.ts";
export { RateLimiter } from "./ratelimit.ts";
export { DOCKER_HUB, ImageRefError, apiHost, formatImageRef, imageName, isLoopbackRegistry, parseImageRef, type ImageRef } from "./reference.ts";
export {
  SelectionSyntaxError, needsBuildDate, parseAllowTags, parseIgnoreTags, parseStrategy, rankTags, selectTag, tagAllowed, tagVersion,
  validateRule, type Selection, type SelectionRule, type TagCandidate, type TagFilter, type UpdateStrategy,
} from "./select.ts";
