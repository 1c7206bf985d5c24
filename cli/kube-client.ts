// What cli/kube.ts loads lazily: named imports, so the bundle keeps only the parts of the Kubernetes
// client that the CLI uses (a namespace import of the whole package would keep all of it).
export { KubeConfig } from "@kubernetes/client-node";
export { TetherClient } from "../agent/api/client.ts";
