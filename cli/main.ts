import { Command } from "commander";

const program = new Command()
  .name("tether")
  .description("GitOps for Kubernetes: keep a cluster equal to a Git repository.")
  .version("0.1.0");

await program.parseAsync(process.argv);
