import { describe, expect, it } from "vitest";
import { renderTemplate } from "./index.ts";

const data = {
  name: "Guestbook_UI",
  url: "https://kubernetes.default.svc",
  list: ["b", "a", "c", "a"],
  labels: { env: "prod", tier: "web" },
  other: { tier: "db", zone: "eu" },
  n: 7, // a float64, as decoded JSON
  empty: "",
  yaml: "a: 1\nb: [x, y]\n",
  json: '{"a": 1, "b": ["x"]}',
  version: "1.24.3",
  epoch: 1700000000,
};

describe("Sprig functions as Argo CD registers them", () => {
  it.each([
    // defaults and flow
    ['{{ .missing | default "d" }} {{ .name | default "d" }} {{ "" | default "d" }} {{ 0 | default 5 }}', "d Guestbook_UI d 5"],
    ["{{ empty .empty }} {{ empty .name }} {{ empty .list }} {{ empty 0 }}", "true false false true"],
    ['{{ coalesce .missing .empty "c" }}', "c"],
    ['{{ ternary "yes" "no" true }} {{ ternary "yes" "no" (eq .labels.env "dev") }}', "yes no"],
    // strings
    ['{{ quote .name }} {{ squote .name }} {{ quote 3 }}', '"Guestbook_UI" \'Guestbook_UI\' "3"'],
    ["{{ upper .name }} {{ lower .name }} {{ title \"hello wide world\" }} {{ untitle \"Hello World\" }}", "GUESTBOOK_UI guestbook_ui Hello Wide World hello world"],
    ['{{ trim "  x  " }}|{{ trimAll "-" "--x--" }}|{{ trimPrefix "https://" .url }}|{{ trimSuffix ".svc" .url }}', "x|x|kubernetes.default.svc|https://kubernetes.default"],
    ['{{ replace "_" "-" .name }} {{ trunc 5 .name }} {{ trunc -2 .name }} {{ substr 0 9 .name }}', "Guestbook-UI Guest UI Guestbook"],
    ['{{ contains "book" .name }} {{ hasPrefix "Guest" .name }} {{ hasSuffix "x" .name }}', "true true false"],
    ['{{ split "." .url }}', "map[_0:https://kubernetes _1:default _2:svc]"],
    ['{{ (split "." .url)._1 }} {{ splitList "." .url | last }} {{ splitn "." 2 .url }}', "default svc map[_0:https://kubernetes _1:default.svc]"],
    ['{{ join "," .list }} {{ list 1 "a" 2.5 | join "-" }}', "b,a,c,a 1-a-2.5"],
    ['{{ repeat 3 "ab" }} {{ nospace "a b  c" }} {{ initials "Argo Continuous Delivery" }} {{ abbrev 8 "hello world" }}', "ababab abc ACD hello..."],
    ['{{ snakecase "GuestbookUi" }} {{ kebabcase "GuestbookUi" }} {{ camelcase "guest_book" }} {{ swapcase "aB" }}', "guestbook_ui guestbook-ui GuestBook Ab"],
    ['{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', "  a\n  b|\n  a"],
    ['{{ cat "a" .missing "b" }} {{ plural "one" "many" 2 }} {{ wrap 5 "aaa bbb ccc" }}', "a b many aaa\nbbb\nccc"],
    ['{{ printf "%s-%03d" "x" 7 }} {{ toString 3 }} {{ toString .n }}', "x-007 3 7"],
    // numbers
    ['{{ atoi "42" }} {{ int "12" }} {{ int64 .n }} {{ float64 "1.5" }} {{ int 3.9 }} {{ atoi "x" }}', "42 12 7 1.5 3 0"],
    ["{{ add 1 2 3 }} {{ sub 10 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 2 }} {{ add1 .n }}", "6 7 24 3 1 8"],
    ["{{ max 1 5 3 }} {{ min 4 2 8 }} {{ add .n 1 }} {{ addf 1.5 1 }} {{ divf 1 4 }} {{ floor 1.5 }} {{ ceil 1.2 }} {{ round 1.256 2 }}", "5 2 8 2.5 0.25 1 2 1.26"],
    ['{{ until 3 }} {{ seq 3 }} {{ untilStep 0 10 4 }}', "[0 1 2] 1 2 3 [0 4 8]"],
    // lists
    ['{{ list "a" "b" }} {{ first .list }} {{ last .list }} {{ rest .list }} {{ initial .list }}', "[a b] b a [a c a] [b a c]"],
    ["{{ uniq .list }} {{ sortAlpha .list }} {{ reverse .list }} {{ without .list \"a\" }} {{ compact (list \"\" \"x\") }}", "[b a c] [a a b c] [a c a b] [b c] [x]"],
    ['{{ has "c" .list }} {{ has "z" .list }} {{ append .list "z" | len }} {{ prepend .list "z" | first }} {{ concat .list (list "q") | len }}', "true false 5 z 5"],
    ['{{ slice .list 1 3 }} {{ chunk 2 .list }} {{ index .list 2 }}', "[a c] [[b a] [c a]] c"],
    // dicts
    ['{{ $d := dict "a" 1 "b" "two" }}{{ $d.a }} {{ get $d "b" }} {{ get $d "zz" }} {{ hasKey $d "a" }} {{ keys $d | sortAlpha }}', "1 two  true [a b]"],
    ['{{ $d := dict "a" 1 }}{{ $_ := set $d "c" 3 }}{{ $d }} {{ unset $d "a" }}', "map[a:1 c:3] map[c:3]"],
    ['{{ merge (dict "tier" "keep") .labels .other }} {{ mergeOverwrite (dict "tier" "x") .other }}', "map[env:prod tier:keep zone:eu] map[tier:db zone:eu]"],
    ['{{ pluck "tier" .labels .other }} {{ values .labels | sortAlpha }} {{ pick .other "zone" }} {{ omit .other "zone" }}', "[web db] [prod web] map[zone:eu] map[tier:db]"],
    ['{{ dig "a" "b" "def" (dict "a" (dict "b" "found")) }} {{ dig "a" "x" "def" (dict "a" (dict)) }}', "found def"],
    // encodings
    ['{{ toJson .labels }} {{ toJson .list }} {{ toRawJson (dict "h" "<b>") }} {{ toJson (dict "h" "<b>") }}', '{"env":"prod","tier":"web"} ["b","a","c","a"] {"h":"<b>"} {"h":"\\u003cb\\u003e"}'],
    ["{{ (fromJson .json).a }} {{ (fromJson .json).b }} {{ toPrettyJson (dict \"a\" 1) }}", '1 [x] {\n  "a": 1\n}'],
    ["{{ toYaml .labels }}", "env: prod\ntier: web"],
    ['{{ toYaml (dict "l" (list 1 2) "m" (dict "k" "v")) }}', "l:\n- 1\n- 2\nm:\n  k: v"],
    ["{{ (fromYaml .yaml).a }} {{ (fromYaml .yaml).b }} {{ fromYamlArray \"- 1\\n- two\" }}", "1 [x y] [1 two]"],
    ['{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b32enc "hi" }} {{ b32dec "NBUQ====" }}', "aGVsbG8= hello NBUQ==== hi"],
    ['{{ sha256sum "hello" }}', "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"],
    ['{{ sha1sum "hello" }} {{ adler32sum "hello" }}', "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d 103547413"],
    // regexes
    ['{{ regexMatch "^[a-z]+$" "abc" }} {{ regexFind "[0-9]+" "ab12cd34" }} {{ regexFindAll "[0-9]+" "ab12cd34" -1 }}', "true 12 [12 34]"],
    ['{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}" }} {{ regexSplit "-+" "a--b-c" -1 }}', "-W-xxW- -${1}- [a b c]"],
    ['{{ regexQuoteMeta "a.b*c" }}', "a\\.b\\*c"],
    // paths, types, semver
    ['{{ base "a/b/c.yaml" }} {{ dir "a/b/c.yaml" }} {{ ext "c.yaml" }} {{ clean "a//b/../c/" }} {{ isAbs "/x" }}', "c.yaml a/b .yaml a/c true"],
    ["{{ typeOf .n }} {{ typeOf 1 }} {{ typeOf .list }} {{ kindOf .labels }} {{ kindIs \"string\" .name }} {{ deepEqual .list .list }}", "float64 int []interface {} map true true"],
    ['{{ semverCompare ">=1.20.0" .version }} {{ semverCompare "~1.23" .version }} {{ semverCompare ">=1.2, <2" "1.5.0" }} {{ (semver .version).Minor }}', "true false true 24"],
    // dates, deterministic: from a fixed epoch
    ['{{ date "2006-01-02T15:04:05Z07:00" .epoch }} {{ .epoch | date "Jan 2, 2006" }} {{ htmlDate .epoch }}', "2023-11-14T22:13:20Z Nov 14, 2023 2023-11-14"],
    ['{{ toDate "2006-01-02" "2024-02-03" | date "02/01/2006" }} {{ unixEpoch (toDate "2006-01-02" "2024-02-03") }}', "03/02/2024 1706918400"],
    ['{{ dateModify "1h30m" (toDate "2006-01-02" "2024-02-03") | date "15:04" }} {{ duration 3725 }}', "01:30 1h2m5s"],
    ['{{ (urlParse "https://u:p@git.example.com:8443/org/repo.git?ref=main#x").hostname }} {{ (urlParse "https://git.example.com/a").path }}', "git.example.com /a"],
    ['{{ urlJoin (dict "scheme" "https" "host" "example.com" "path" "/x" "query" "a=1") }}', "https://example.com/x?a=1"],
    // Argo CD's own
    ['{{ normalize "Guestbook_UI.Prod!" }} {{ normalize "--x--" }}', "guestbook-ui.prod x"],
    ['{{ slugify "Hello World!" }} {{ slugify 10 false "a very long cluster name" }} {{ slugify 10 true "a very long cluster name" }}', "hello-world a-very-lon a-very"],
  ])("%s", (template, expected) => {
    expect(renderTemplate(template, data)).toBe(expected);
  });

  it("now is the current time", () => {
    const year = new Date().getUTCFullYear();
    expect(renderTemplate('{{ now | date "2006" }}', {})).toBe(String(year));
  });

  it.each([
    ['{{ fail "stop: set .cluster" }}', "stop: set .cluster"],
    ['{{ div 1 0 }}', "integer divide by zero"],
    ['{{ fromYaml "- a" }}', "cannot unmarshal"],
    ['{{ semverCompare ">=1" "not-a-version" }}', "Invalid Semantic Version"],
    ['{{ regexMatch "(" "x" }}', "error parsing regexp"],
  ])("%s fails with the function's error", (template, message) => {
    expect(() => renderTemplate(template, data)).toThrow(message);
  });
});
