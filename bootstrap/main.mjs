// Pulumi.yaml's entry point. Pulumi's Node.js runtime loads this module and calls its default export;
// tsx is registered first (as bin/tether.mjs does) so the TypeScript program and the agent/api modules it
// shares with `tether install` load as they are, whichever Pulumi language host runs them.
import { register } from "tsx/esm/api";

register();
const { default: bootstrap } = await import("./index.ts");
export default bootstrap;
