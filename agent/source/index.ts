// The source stage: Git repositories in, commits and throwaway trees out.
export { GitSource, type Checkout, type CredentialsProvider, type FetchOptions, type GitSourceOptions } from "./git-source.ts";
export { type Credentials } from "./repo-url.ts";
export { safeJoin } from "./safe-join.ts";
