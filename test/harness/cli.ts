// `npm run cluster:up | cluster:down | kubectl -- ARGS`: the long-lived local control plane in .tether/cluster.
import path from "node:path";
import { execa } from "execa";
import { isRunning, startControlPlane, stopControlPlane } from "./controlplane.ts";
import { stopRecordedNode } from "./node.ts";
import { clusterStateDir, pathWithTools, toolPath } from "./paths.ts";

const kubeconfig = path.join(clusterStateDir, "kubeconfig");
const [command, ...rest] = process.argv.slice(2);

switch (command) {
  case "up": {
    if (await isRunning(clusterStateDir)) {
      console.error("[cluster] already running");
    } else {
      await stopRecordedNode(clusterStateDir);
      await stopControlPlane(clusterStateDir);
      await startControlPlane({ dir: clusterStateDir, log: (l) => console.error(`[cluster] ${l}`) });
      console.error(`[cluster] ready; stop it with: npm run cluster:down`);
    }
    // Last line, alone, so scripts can take it: KUBECONFIG=$(npm run -s cluster:up | tail -1)
    console.log(kubeconfig);
    break;
  }
  case "down":
    // The demo's real node (kubelet, containerd, the pods' containers) first, then the control plane.
    await stopRecordedNode(clusterStateDir);
    await stopControlPlane(clusterStateDir);
    console.error("[cluster] stopped");
    break;
  case "kubectl": {
    const args = rest[0] === "--" ? rest.slice(1) : rest;
    const result = await execa(toolPath("kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], {
      stdio: "inherit", reject: false, env: { PATH: pathWithTools() },
    });
    process.exitCode = result.exitCode ?? 1;
    break;
  }
  default:
    console.error("usage: tsx test/harness/cli.ts up|down|kubectl [-- ARGS]");
    process.exitCode = 2;
}
