// Shell completion scripts generated from the command tree itself, so a new command or flag is
// completed without anyone editing a script. Pure: a Command in, script text out.
import type { Command } from "commander";

/** What can follow one command path (`""` for `tether` itself, `"app create"`...). */
export interface CompletionNode {
  readonly path: string;
  readonly subcommands: readonly { readonly name: string; readonly description: string }[];
  readonly options: readonly { readonly names: readonly string[]; readonly description: string; readonly takesValue: boolean; readonly choices: readonly string[] }[];
  /** Allowed values of the first positional argument, if it has a fixed set. */
  readonly argChoices: readonly string[];
  /** The command (after the program's name) whose output lists the first argument's values: app or project names from the cluster. */
  readonly argLister?: string;
}

/** Commands whose `<name>` is an existing Application or AppProject, listed from the cluster while completing. */
function argListerOf(path: string, cmd: Command): string | undefined {
  if (cmd.registeredArguments[0]?.name() !== "name") return undefined;
  if (path.startsWith("app ") && path !== "app create") return "app list -o name";
  if (path === "project delete") return "project list -o name";
  return undefined;
}

const shortText = (text: string) => {
  const first = text.split(/\. |; | \(|: /)[0]!.trim();
  return first.length > 70 ? `${first.slice(0, 67)}...` : first;
};

/** Every command path of `program` with its subcommands, options and argument choices. */
export function completionTree(program: Command): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const visit = (cmd: Command, path: string) => {
    const visible = cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
    const options = cmd.options.filter((o) => !o.hidden).map((o) => ({
      names: [o.short, o.long].filter((n): n is string => n !== undefined),
      description: shortText(o.description),
      takesValue: o.required || o.optional,
      choices: o.argChoices ?? [],
    }));
    options.push({ names: ["-h", "--help"], description: "show help", takesValue: false, choices: [] });
    nodes.push({
      path,
      subcommands: visible.flatMap((c) => [c.name(), ...c.aliases()].map((name) => ({ name, description: shortText(c.description()) }))),
      options,
      argChoices: cmd.registeredArguments[0]?.argChoices ?? [],
      ...(argListerOf(path, cmd) ? { argLister: argListerOf(path, cmd)! } : {}),
    });
    for (const child of visible) visit(child, path ? `${path} ${child.name()}` : child.name());
  };
  visit(program, "");
  return nodes;
}

const bashWords = (words: readonly string[]) => words.join(" ").replace(/["\\$`]/g, "\\$&");
const zshQuote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;

/** A bash completion script: `source <(tether completion bash)`. */
export function bashScript(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const nodes = completionTree(program);
  const spec = nodes.map((n) => `    "${n.path}") subs="${bashWords(n.subcommands.map((s) => s.name))}"; opts="${bashWords(n.options.flatMap((o) => o.names))}"; valued="${bashWords(n.options.filter((o) => o.takesValue).flatMap((o) => o.names))}";;`);
  const choices = nodes.flatMap((n) => [
    ...n.options.filter((o) => o.choices.length > 0).flatMap((o) => o.names.map((opt) => `    "${n.path}|${opt}") echo "${bashWords(o.choices)}";;`)),
    ...(n.argChoices.length > 0 ? [`    "${n.path}|") echo "${bashWords(n.argChoices)}";;`] : []),
  ]);
  return `# bash completion for ${name}. Load it in this shell:  source <(${name} completion bash)
# or for every shell:  ${name} completion bash > ~/.local/share/bash-completion/completions/${name}
${fn}_spec() {
  case "$1" in
${spec.join("\n")}
    *) subs=""; opts=""; valued="";;
  esac
}
${fn}_choices() {
  case "$1|$2" in
${choices.join("\n")}
  esac
}
${fn}_lister() {
  case "$1" in
${nodes.filter((n) => n.argLister).map((n) => `    "${n.path}") echo "${n.argLister}";;`).join("\n")}
  esac
}
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmdpath="" w i skip=0 subs opts valued first=1 runner="${name}" lister
  # \`npx ${name} ...\`: the words after npx are ${name}'s.
  if [[ "\${COMP_WORDS[0]##*/}" == npx ]]; then
    if ((COMP_CWORD == 1)); then COMPREPLY=($(compgen -W "${name}" -- "$cur")); return 0; fi
    [[ "\${COMP_WORDS[1]}" == "${name}" ]] || return 0
    first=2; runner="npx ${name}"
  fi
  for ((i = first; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    ${fn}_spec "$cmdpath"
    if [[ "$w" == -* ]]; then
      [[ "$w" != *=* && " $valued " == *" $w "* ]] && skip=1
      continue
    fi
    [[ " $subs " == *" $w "* ]] && cmdpath="\${cmdpath:+$cmdpath }$w"
  done
  ${fn}_spec "$cmdpath"
  if [[ "$prev" == -* && " $valued " == *" $prev "* ]]; then
    local values
    values="$(${fn}_choices "$cmdpath" "$prev")"
    [[ -n "$values" ]] && COMPREPLY=($(compgen -W "$values" -- "$cur"))
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    lister="$(${fn}_lister "$cmdpath")"
    local listed=""
    [[ -n "$lister" ]] && listed="$(timeout 5 $runner $lister 2>/dev/null)"
    COMPREPLY=($(compgen -W "$subs $(${fn}_choices "$cmdpath" "") $listed" -- "$cur"))
  fi
  return 0
}
complete -o default -F ${fn} ${name}
complete -o default -F ${fn} npx
`;
}

/** A zsh completion script: `source <(tether completion zsh)`, or saved as `_tether` on $fpath. */
export function zshScript(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const nodes = completionTree(program);
  const entry = (label: string, description: string) => zshQuote(`${label.replace(/:/g, "\\:")}:${description}`);
  const spec = nodes.map((n) => `    ${zshQuote(n.path)})
      subs=(${n.subcommands.map((s) => entry(s.name, s.description)).join(" ")})
      opts=(${n.options.flatMap((o) => o.names.map((opt) => entry(opt, o.description))).join(" ")})
      valued=(${n.options.filter((o) => o.takesValue).flatMap((o) => o.names).join(" ")});;`);
  const choices = nodes.flatMap((n) => [
    ...n.options.filter((o) => o.choices.length > 0).flatMap((o) => o.names.map((opt) => `    ${zshQuote(`${n.path}|${opt}`)}) reply=(${o.choices.join(" ")});;`)),
    ...(n.argChoices.length > 0 ? [`    ${zshQuote(`${n.path}|`)}) reply=(${n.argChoices.join(" ")});;`] : []),
  ]);
  return `#compdef ${name}
# zsh completion for ${name}. Load it in this shell:  source <(${name} completion zsh)
# or for every shell: save it as _${name} in a directory on $fpath (before compinit runs).
${fn}_spec() {
  subs=(); opts=(); valued=()
  case "$1" in
${spec.join("\n")}
  esac
}
${fn}_choices() {
  reply=()
  case "$1|$2" in
${choices.join("\n")}
  esac
}
${fn}_lister() {
  case "$1" in
${nodes.filter((n) => n.argLister).map((n) => `    ${zshQuote(n.path)}) print -r -- ${zshQuote(n.argLister!)};;`).join("\n")}
  esac
}
${fn}() {
  local -a subs opts valued reply names runner
  local cmdpath="" w prev cur lister
  local -i i skip=0
  runner=(${name})
  # \`npx ${name} ...\`: the words after npx are ${name}'s.
  if [[ \${words[1]:t} == npx ]]; then
    if (( CURRENT == 2 )); then compadd ${name}; return; fi
    [[ \${words[2]} == ${name} ]] || { _files; return; }
    shift words; (( CURRENT-- )); runner=(npx ${name})
  fi
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    if ((skip)); then skip=0; continue; fi
    ${fn}_spec "$cmdpath"
    if [[ $w == -* ]]; then
      [[ $w != *=* ]] && (( \${valued[(Ie)$w]} )) && skip=1
      continue
    fi
    names=(\${subs%%:*})
    (( \${names[(Ie)$w]} )) && cmdpath="\${cmdpath:+$cmdpath }$w"
  done
  ${fn}_spec "$cmdpath"
  prev=\${words[CURRENT-1]}
  cur=\${words[CURRENT]}
  if [[ $prev == -* ]] && (( \${valued[(Ie)$prev]} )); then
    ${fn}_choices "$cmdpath" "$prev"
    if (( \${#reply} )); then compadd -a reply; else _files; fi
    return
  fi
  if [[ $cur == -* ]]; then
    _describe -t options option opts
    return
  fi
  ${fn}_choices "$cmdpath" ""
  lister="$(${fn}_lister "$cmdpath")"
  if [[ -n $lister ]]; then
    reply+=(\${(f)"$(timeout 5 $runner \${=lister} 2>/dev/null)"})
  fi
  if (( \${#subs} )); then
    _describe -t commands command subs
  elif (( \${#reply} )); then
    compadd -a reply
  else
    _files
  fi
}
if [[ "\${funcstack[1]}" == "${fn}" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name} npx
fi
`;
}
