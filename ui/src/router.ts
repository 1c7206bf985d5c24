// Pages live in the URL's hash (`#/`, `#/apps/NAME`, `#/apps/NAME/object/KEY`), so the agent serves
// one index.html and a link to any page can be shared.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { readonly page: "list" }
  | { readonly page: "app"; readonly name: string }
  | { readonly page: "object"; readonly name: string; readonly key: string }
  | { readonly page: "pipelines" }
  | { readonly page: "pipeline"; readonly project: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "apps" && parts[1]) {
    if (parts[2] === "object" && parts[3] !== undefined) return { page: "object", name: parts[1], key: parts.slice(3).join("/") };
    return { page: "app", name: parts[1] };
  }
  if (parts[0] === "pipelines") return parts[1] ? { page: "pipeline", project: parts[1] } : { page: "pipelines" };
  return { page: "list" };
}

export const href = {
  list: () => "#/",
  app: (name: string) => `#/apps/${encodeURIComponent(name)}`,
  object: (name: string, key: string) => `#/apps/${encodeURIComponent(name)}/object/${encodeURIComponent(key)}`,
  pipelines: () => "#/pipelines",
  pipeline: (project: string) => `#/pipelines/${encodeURIComponent(project)}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
