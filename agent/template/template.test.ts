import { describe, expect, it } from "vitest";
import { compileTemplate, renderTemplate, TemplateError } from "./index.ts";

const data = {
  cluster: "engineering-dev",
  url: "https://kubernetes.default.svc",
  replicas: 3, // decoded from JSON/YAML: a float64 in Go
  list: ["a", "b", "c"],
  labels: { env: "prod", tier: "web" },
  empty: "",
  nothing: null,
  nested: { a: { b: "deep" } },
};

describe("Go text/template: actions, control flow and variables", () => {
  it.each([
    ["{{.cluster}}", "engineering-dev"],
    ["{{ .cluster }}-{{ .url }}", "engineering-dev-https://kubernetes.default.svc"],
    ["{{.nested.a.b}}", "deep"],
    ["{{ .replicas }}", "3"],
    ["{{ 3 }} {{ 3.5 }} {{ 1e6 }} {{ 0x10 }} {{ 'a' }} {{ -2 }}", "3 3.5 1e+06 16 97 -2"],
    ['{{ "a\\tb" }}|{{ `raw\\n` }}', "a\tb|raw\\n"],
    ["{{ true }} {{ nil | print }}", "true <nil>"],
    ["a  {{- .cluster -}}  b", "aengineering-devb"],
    ["a {{/* a comment */}} b", "a  b"],
    ["a {{- /* trimmed */ -}} b", "ab"],
    ["{{ if .empty }}yes{{ else }}no{{ end }}", "no"],
    ['{{ if eq .cluster "x" }}1{{ else if eq .cluster "engineering-dev" }}2{{ else }}3{{ end }}', "2"],
    ["{{ with .labels.env }}{{ . }}{{ end }}", "prod"],
    ["{{ with .labels.none }}{{ . }}{{ else }}none{{ end }}", "none"],
    ["{{ with .labels.none }}x{{ else with .labels.tier }}{{ . }}{{ end }}", "web"],
    ["{{ range .list }}[{{ . }}]{{ end }}", "[a][b][c]"],
    ["{{ range $i, $v := .list }}{{ $i }}={{ $v }};{{ end }}", "0=a;1=b;2=c;"],
    ["{{ range $k, $v := .labels }}{{ $k }}:{{ $v }},{{ end }}", "env:prod,tier:web,"],
    ["{{ range $v := .labels }}{{ $v }}{{ end }}", "prodweb"],
    ["{{ range .missing }}x{{ else }}empty{{ end }}", "empty"],
    ["{{ range .list }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", "ac"],
    ["{{ range .list }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}", "a"],
    ["{{ range 3 }}{{ . }}{{ end }}", "012"],
    ["{{ $x := .cluster }}{{ $x }}", "engineering-dev"],
    ["{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"],
    ["{{ range .list }}{{ $.cluster }}{{ end }}", "engineering-deveengineering-devengineering-dev".replace("deve", "dev")],
    ['{{ define "T" }}<{{ . }}>{{ end }}{{ template "T" .cluster }}', "<engineering-dev>"],
    ['{{ block "B" .labels.env }}[{{ . }}]{{ end }}', "[prod]"],
    ['{{ (printf "%s-%s" .cluster "x") | upper }}', "ENGINEERING-DEV-X"],
    ["{{ (.nested.a).b }}", "deep"],
    ["{{ and 1 0 2 }} {{ or 0 \"\" \"x\" }} {{ not .empty }}", "0 x true"],
    ["{{ and false (index .list 10) }}", "false"],
    ["{{ len .list }} {{ len .labels }} {{ len .cluster }}", "3 2 15"],
    ["{{ index .list 1 }} {{ index .labels \"env\" }} {{ index .nested \"a\" \"b\" }}", "b prod deep"],
    ["{{ slice .list 1 }}", "[b c]"],
    ["{{ .labels }} {{ .list }}", "map[env:prod tier:web] [a b c]"],
    ["{{ .missing }}", "<no value>"],
    ["{{ .nothing }} {{ index .labels \"none\" }} {{ print .nothing }} {{ list .nothing }}", "<no value> <no value> <nil> [<nil>]"],
    ["{{ .nested.missing.deeper }}", "<no value>"],
  ])("%s", (template, expected) => {
    expect(renderTemplate(template, data)).toBe(expected);
  });
});

describe("Go text/template: comparisons and printing", () => {
  it.each([
    ["{{ eq 1 1 }} {{ eq 1 2 }} {{ eq 1 2 1 }} {{ ne \"a\" \"b\" }}", "true false true true"],
    ["{{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge 1.5 2.5 }}", "true true true false"],
    ["{{ eq .missing \"x\" }}", "false"],
    ['{{ printf "%s|%d|%q|%v|%t|%x|%X|%5.2f|%-4s|%03d|%%" "s" 42 "q" .list true 255 "hi" 3.14159 "ab" 7 }}', 's|42|"q"|[a b c]|true|ff|6869| 3.14|ab  |007|%'],
    ['{{ printf "%d" .replicas }}', "%!d(float64=3)"],
    ['{{ printf "%v %s" .replicas }}', "3 %!s(MISSING)"],
    ['{{ print "a" 1 2 "b" }}', "a1 2b"],
    ['{{ println "a" 1 }}', "a 1\n"],
    ['{{ html "<a href=\'x\'>" }} {{ js "it\'s" }} {{ urlquery "a b&c" }}', "&lt;a href=&#39;x&#39;&gt; it\\'s a+b%26c"],
  ])("%s", (template, expected) => {
    expect(renderTemplate(template, data)).toBe(expected);
  });

  it.each([
    ["{{ eq .replicas 3 }}", "incompatible types for comparison"],
    ["{{ eq .list .list }}", "non-comparable type"],
    ["{{ lt true false }}", "invalid type for comparison"],
  ])("%s fails as Go fails", (template, message) => {
    expect(() => renderTemplate(template, data)).toThrow(message);
  });
});

describe("Go text/template: options and errors", () => {
  it("missingkey=error stops at the first missing key, naming it", () => {
    const t = compileTemplate("{{ .cluster }}-{{ .region }}", { missingKey: "error", name: "app" });
    expect(() => t.execute(data)).toThrow('template: app:1: executing "app" at <.region>: map has no entry for key "region"');
    try {
      t.execute(data);
    } catch (err) {
      expect((err as TemplateError).missingKey).toBe(true);
    }
  });

  it.each(["default", "invalid", "zero"] as const)("missingkey=%s prints <no value> on a map of interfaces, as Go does", (missingKey) => {
    expect(renderTemplate("{{ .region }}", data, { missingKey })).toBe("<no value>");
  });

  it.each([
    ["{{ nosuch .x }}", 'template: t:1: function "nosuch" not defined'],
    ["{{ env \"HOME\" }}", 'function "env" not defined'],
    ["{{ expandenv \"$HOME\" }}", 'function "expandenv" not defined'],
    ["{{ $y }}", 'undefined variable "$y"'],
    ["{{ if .x }}", "unexpected EOF"],
    ["{{ end }}", "unexpected {{end}}"],
    ["{{ .x", "unclosed action"],
    ["{{ .x | 3 }}", "non executable command in pipeline stage 2"],
    ['{{ "unterminated }}', "unterminated quoted string"],
  ])("%s is a parse error", (template, message) => {
    expect(() => compileTemplate(template, { name: "t" })).toThrow(message);
  });

  it.each([
    ["{{ .cluster.x }}", "can't evaluate field x in type string"],
    ['{{ template "nope" }}', 'no template "nope"'],
    ["{{ index .list 5 }}", "index out of range: 5"],
    ["{{ upper .missing }}", "invalid value; expected string"],
    ['{{ fail "stop here" }}', "stop here"],
    ["{{ .cluster 1 }}", "has arguments but cannot be invoked as function"],
    ['{{ printf }}', "wrong number of args for printf: want at least 1 got 0"],
  ])("%s is an execution error", (template, message) => {
    expect(() => renderTemplate(template, data)).toThrow(message);
  });

  it("Go's builtin slice cuts strings; Sprig's, which Argo CD registers over it, only lists", () => {
    expect(renderTemplate("{{ slice .cluster 0 11 }}", data, { sprig: false })).toBe("engineering");
    expect(() => renderTemplate("{{ slice .cluster 0 11 }}", data)).toThrow("list should be type of slice or array but string");
  });

  it("stops a template that loops too long", () => {
    const t = compileTemplate("{{ range until 100000 }}{{ range until 100000 }}x{{ end }}{{ end }}", { limits: { maxSteps: 10_000 } });
    expect(() => t.execute({})).toThrow("stopped after 10000 steps");
  });

  it("stops a template that writes too much", () => {
    const t = compileTemplate('{{ range until 1000 }}{{ repeat 1000 "x" }}{{ end }}', { limits: { maxOutput: 100_000 } });
    expect(() => t.execute({})).toThrow("output exceeds 100000 characters");
  });

  it("stops runaway recursion", () => {
    const t = compileTemplate('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}', { limits: { maxDepth: 50 } });
    expect(() => t.execute({})).toThrow("exceeded maximum template depth (50)");
  });
});
