// `tether preview` rendering on the agent: each Application of the tree that the agent already runs (same
// name, same repository, one source) is rendered there at the commit, with the commit's path, Helm,
// Kustomize and directory options, so the preview shows what the agent will apply (its helm, kustomize,
// keys and the destination's capabilities). Apps the agent does not have, commits it cannot fetch
// (not pushed) and an agent it cannot reach are rendered here, and the notes say which.
import type { Application, Manifest } from "../../agent/api/types.ts";
import { sourcesOf } from "../../agent/api/sources.ts";
import { agentApplication, agentManifests, AgentRefused, AgentUnreachable, type AgentEndpoint } from "../app/remote.ts";

export interface AgentRenderer {
  render(app: Application, sha: string): Promise<Manifest[] | undefined>;
  /** One line per app: where it was rendered and why. */
  readonly notes: string[];
}

/** `inRepo`: whether a repoURL is the previewed repository (the preview's own test, its remotes and --repo-url). */
export function agentRenderer(ep: AgentEndpoint, inRepo: (url: string | undefined) => boolean): AgentRenderer {
  const notes: string[] = [];
  let unreachable = false;
  return {
    notes,
    async render(app, sha) {
      const name = app.metadata?.name ?? "";
      const sources = sourcesOf(app);
      const source = sources[0];
      if (unreachable || source === undefined || sources.length !== 1 || source.chart !== undefined) return undefined;
      try {
        const there = await agentApplication(ep, name);
        if (there === undefined || !inRepo(there.repoURL) || !inRepo(source.repoURL)) {
          notes.push(`${name}@${sha.slice(0, 7)}: rendered here (the agent runs no app ${name} of this repository yet)`);
          return undefined;
        }
        const overrides = {
          ...(source.path !== undefined ? { path: source.path } : {}), ...(source.helm ? { helm: source.helm } : {}),
          ...(source.kustomize ? { kustomize: source.kustomize } : {}), ...(source.directory ? { directory: source.directory } : {}),
        };
        const { rendered } = await agentManifests(ep, name, { revision: sha, source: overrides });
        notes.push(`${name}@${sha.slice(0, 7)}: rendered by the agent at ${ep.url}`);
        return rendered;
      } catch (err) {
        if (err instanceof AgentUnreachable) unreachable = true;
        if (!(err instanceof AgentUnreachable || err instanceof AgentRefused)) throw err;
        notes.push(`${name}@${sha.slice(0, 7)}: rendered here (${err.message})`);
        return undefined;
      }
    },
  };
}
