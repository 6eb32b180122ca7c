import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main, type Io } from "../../compiler/cli.js";
import { dotString, mermaidText } from "../../tools/inspect/graph.js";
import { makeProject } from "../support/project.js";

// `depc graph` through the CLI entry point, in process, on a real project.
// Graphviz is not needed: the DOT output is checked by a parser of the DOT
// subset depc writes, and the Mermaid output line by line.

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

async function depc(files: Record<string, string>, ...args: string[]) {
  const project = makeProject(files);
  cleanup = project.cleanup;
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd: project.dir, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false };
  const code = await main(args, io);
  return { code, stdout, stderr, dir: project.dir };
}

// Two hosts; wiring across them; membership; a parent directory; `after` and
// `before` between resources and components; a component's `after`; a path
// with characters that mean something to DOT and to Mermaid.
const weird = '/srv/we"ird\\N <dir> #1 |x|';
const model = {
  "env/prod.ts": `import { component, environment, key, Directory, File, Symlink } from "depc";

const port = key<number>("port");

export const tools = component({
  name: "tools",
  build() {
    Directory({ path: "/opt/tools" });
  },
});

export const web = component({
  name: "web",
  settings: { root: '/srv/we"ird\\\\N <dir> #1 |x|' },
  after: [tools],
  build(s, ctx) {
    const ports = ctx.require(port);
    Directory({ path: s.root });
    const conf = File({ path: \`\${s.root}/web.conf\`, content: ports.join("\\n") });
    Symlink({ path: "/srv/current", target: s.root, after: [conf] });
  },
});

export const backend = component({
  name: "backend",
  build(_s, ctx) {
    ctx.provide(port, 8080);
  },
});

export default environment({
  hosts: {
    "front.example.com": [File({ path: "/etc/banner", content: "", before: [web] }), web, tools],
    back: [backend],
  },
});
`,
};

const expectedDot = `// depc graph of environment prod
// Arrows point from what converges first to what converges later; dashed lines join a component to its parts.
digraph "prod" {
  graph [rankdir=LR, fontname="Helvetica", fontsize=11];
  node [fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9];
  subgraph "cluster_front.example.com" {
    label="host front.example.com";
    style=rounded;
    c1 [label="web", shape=box, style="rounded,filled", fillcolor=lightyellow];
    c2 [label="tools", shape=box, style="rounded,filled", fillcolor=lightyellow];
    r1 [label="file /etc/banner", shape=note];
    r2 [label="directory /srv/we\\"ird\\\\N <dir> #1 |x|", shape=note];
    r3 [label="file /srv/we\\"ird\\\\N <dir> #1 |x|/web.conf", shape=note];
    r4 [label="symlink /srv/current", shape=note];
    r5 [label="directory /opt/tools", shape=note];
  }
  subgraph "cluster_back" {
    label="host back";
    style=rounded;
    c3 [label="backend", shape=box, style="rounded,filled", fillcolor=lightyellow];
  }
  c1 -> r2 [style=dashed, arrowhead=none, color=gray50];
  c1 -> r3 [style=dashed, arrowhead=none, color=gray50];
  c1 -> r4 [style=dashed, arrowhead=none, color=gray50];
  c2 -> r5 [style=dashed, arrowhead=none, color=gray50];
  r2 -> r3 [label="contains", color=gray30];
  r1 -> c1 [label="before", style=bold];
  r3 -> r4 [label="after", style=bold];
  c2 -> c1 [label="after", style=bold];
  c3 -> c1 [label="port", color=blue, fontcolor=blue, penwidth=1.5];
}
`;

const expectedMermaid = `%% depc graph of environment prod
%% Arrows point from what converges first to what converges later; dotted lines join a component to its parts.
flowchart LR
  subgraph h1["host front.example.com"]
    c1("web")
    c2("tools")
    r1["file /etc/banner"]
    r2["directory /srv/we#quot;ird\\N #60;dir#62; #35;1 #124;x#124;"]
    r3["file /srv/we#quot;ird\\N #60;dir#62; #35;1 #124;x#124;/web.conf"]
    r4["symlink /srv/current"]
    r5["directory /opt/tools"]
  end
  subgraph h2["host back"]
    c3("backend")
  end
  c1 -.- r2
  c1 -.- r3
  c1 -.- r4
  c2 -.- r5
  r2 -->|"contains"| r3
  r1 -->|"before"| c1
  r3 -->|"after"| r4
  c2 -->|"after"| c1
  c3 ==>|"port"| c1
`;

// ---- a parser for the DOT that depc writes (a subset of the DOT grammar) ----

type Token = { type: "id" | "string" | "punct"; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (text.startsWith("//", i)) i = text.indexOf("\n", i) === -1 ? text.length : text.indexOf("\n", i);
    else if (text.startsWith("->", i)) (tokens.push({ type: "punct", text: "->" }), (i += 2));
    else if ("{}[]=;,".includes(c)) (tokens.push({ type: "punct", text: c }), i++);
    else if (c === '"') {
      // Lexically, DOT knows one escape in strings: \" (everything else stays for the label's own escapes).
      let value = "";
      for (i++; ; i++) {
        if (i >= text.length) throw new Error("unterminated string");
        if (text[i] === "\\" && text[i + 1] === '"') (value += '"', i++);
        else if (text[i] === "\\" && text[i + 1] === "\\") (value += "\\\\", i++);
        else if (text[i] === '"') break;
        else if (text[i] === "\n") throw new Error("line break in a string");
        else value += text[i];
      }
      i++;
      tokens.push({ type: "string", text: value });
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*|^-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)/.exec(text.slice(i));
      if (!m) throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 20))}`);
      tokens.push({ type: "id", text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** A label's escString as Graphviz shows it: \\ → \, \n → line break; \N and friends would be substitutions. */
function labelText(escaped: string): string {
  return escaped.replace(/\\(.)/g, (_, c: string) => {
    if (c === "\\" || c === '"') return c;
    if (c === "n" || c === "l" || c === "r") return "\n";
    throw new Error(`label uses the substitution \\${c}`);
  });
}

interface Dot {
  name: string;
  clusters: Map<string, string[]>;
  nodes: Map<string, Record<string, string>>;
  edges: { from: string; to: string; attrs: Record<string, string> }[];
}

function parseDot(text: string): Dot {
  const tokens = tokenize(text);
  let p = 0;
  const peek = () => tokens[p];
  const next = () => {
    const t = tokens[p++];
    if (!t) throw new Error("unexpected end");
    return t;
  };
  const expectPunct = (s: string) => {
    const t = next();
    if (t.type !== "punct" || t.text !== s) throw new Error(`expected ${s}, got ${t.text}`);
  };
  const id = () => {
    const t = next();
    if (t.type === "punct") throw new Error(`expected an id, got ${t.text}`);
    return t.text;
  };
  const attrs = () => {
    const out: Record<string, string> = {};
    expectPunct("[");
    while (peek()?.text !== "]") {
      const k = id();
      expectPunct("=");
      out[k] = id();
      if (peek()?.text === "," || peek()?.text === ";") next();
    }
    expectPunct("]");
    return out;
  };
  const dot: Dot = { name: "", clusters: new Map(), nodes: new Map(), edges: [] };
  const stmts = (cluster: string | undefined) => {
    expectPunct("{");
    while (peek()?.text !== "}") {
      const t = next();
      if (t.text === "subgraph") {
        const name = id();
        if (cluster !== undefined) throw new Error("nested subgraph");
        dot.clusters.set(name, []);
        stmts(name);
      } else if (["graph", "node", "edge"].includes(t.text) && peek()?.text === "[") attrs();
      else if (peek()?.text === "=") (next(), id());
      else if (peek()?.text === "->") {
        next();
        const to = id();
        dot.edges.push({ from: t.text, to, attrs: peek()?.text === "[" ? attrs() : {} });
      } else {
        if (dot.nodes.has(t.text)) throw new Error(`node ${t.text} declared twice`);
        dot.nodes.set(t.text, peek()?.text === "[" ? attrs() : {});
        if (cluster === undefined) throw new Error(`node ${t.text} outside every host`);
        dot.clusters.get(cluster)!.push(t.text);
      }
      if (peek()?.text === ";") next();
    }
    expectPunct("}");
  };
  if (next().text !== "digraph") throw new Error("expected digraph");
  dot.name = id();
  stmts(undefined);
  if (p !== tokens.length) throw new Error("text after the graph");
  return dot;
}

/** Checks a Mermaid flowchart of depc's shape line by line; returns node labels and edges, decoded. */
function parseMermaid(text: string) {
  const decode = (s: string) => {
    if (s.includes('"')) throw new Error(`raw quote in ${s}`);
    return s.replace(/#quot;/g, '"').replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
  };
  const labels = new Map<string, string>();
  const clusters: string[] = [];
  const edges: [string, string, string, string | undefined][] = [];
  const lines = text.split("\n");
  expect(lines.pop()).toBe("");
  let open = false;
  let header = false;
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if (/^%%[^{}]*$/.test(line)) continue;
    if (line === "flowchart LR") header = true;
    else if ((m = /^  subgraph (h\d+)\["([^"]*)"\]$/.exec(line))) {
      expect(open).toBe(false);
      open = true;
      clusters.push(decode(m[2]!));
    } else if (line === "  end") (expect(open).toBe(true), (open = false));
    else if ((m = /^    ([cr]\d+)(?:\("([^"]*)"\)|\["([^"]*)"\])$/.exec(line))) {
      expect(open).toBe(true);
      labels.set(m[1]!, decode(m[2] ?? m[3]!));
    } else if ((m = /^  ([cr]\d+) (-\.-|-\.->|-->|==>)(?:\|"([^"]*)"\|)? ([cr]\d+)$/.exec(line))) {
      edges.push([m[1]!, m[2]!, m[4]!, m[3] === undefined ? undefined : decode(m[3])]);
    } else throw new Error(`unexpected line: ${JSON.stringify(line)}`);
  }
  expect(header && !open).toBe(true);
  for (const [from, , to] of edges) expect(labels.has(from) && labels.has(to)).toBe(true);
  return { labels, clusters, edges };
}

describe("depc graph", () => {
  it("writes DOT: hosts as clusters, wiring across them, membership and ordering edges", async () => {
    const r = await depc(model, "graph", "env/prod");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expectedDot);
  });

  it("writes DOT that parses, with every label shown as the model's text", async () => {
    const r = await depc(model, "graph", "env/prod", "--format", "dot");
    const dot = parseDot(r.stdout);
    expect(dot.name).toBe("prod");
    expect([...dot.clusters.keys()]).toEqual(["cluster_front.example.com", "cluster_back"]);
    for (const e of dot.edges) expect(dot.nodes.has(e.from) && dot.nodes.has(e.to)).toBe(true);
    const label = (node: string) => labelText(dot.nodes.get(node)!.label!);
    expect(label("r2")).toBe(`directory ${weird}`);
    expect(label("r3")).toBe(`file ${weird}/web.conf`);
    const wire = dot.edges.find((e) => e.attrs.label === "port")!;
    expect([label(wire.from), label(wire.to)]).toEqual(["backend", "web"]);
    expect(dot.clusters.get("cluster_back")).toEqual(["c3"]);
  });

  it("writes Mermaid with the same nodes and edges, labels escaped as entity codes", async () => {
    const r = await depc(model, "graph", "env/prod", "--format", "mermaid");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expectedMermaid);
    const parsed = parseMermaid(r.stdout);
    expect(parsed.clusters).toEqual(["host front.example.com", "host back"]);
    expect(parsed.labels.get("r2")).toBe(`directory ${weird}`);
    const dot = parseDot((await depc(model, "graph", "env/prod")).stdout);
    expect(parsed.edges.map(([from, , to, label]) => [from, to, label ?? null])).toEqual(
      dot.edges.map((e) => [e.from, e.to, e.attrs.label ?? null]),
    );
  });

  it("escapes every character that could end a label or start an escape", () => {
    const nasty = 'a"b\\c\\"d\nline\r\n\\N\\G #quot; <b>x</b> & `y` |z| end';
    const dot = parseDot(`digraph x { subgraph cluster_h { n [label=${dotString(nasty)}]; } }`);
    expect(labelText(dot.nodes.get("n")!.label!)).toBe(nasty.replace(/\r\n/g, "\n"));
    const mermaid = parseMermaid(`flowchart LR\n  subgraph h1["h"]\n    r1["${mermaidText(nasty)}"]\n  end\n`);
    expect(mermaid.labels.get("r1")).toBe(nasty.replace(/\r\n|\n/g, " "));
  });

  it("--out writes the file and says so", async () => {
    const r = await depc(model, "graph", "env/prod", "--format", "mermaid", "--out", "docs/graph.mmd");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("depc: wrote docs/graph.mmd (mermaid, 2 hosts, 9 edges)\n");
    expect(readFileSync(join(r.dir, "docs/graph.mmd"), "utf8")).toBe(expectedMermaid);
  });

  it("draws a model with a cycle (to show it), prints the diagnostic and exits 1", async () => {
    const cyclic = { "env/prod.ts": model["env/prod.ts"].replace("after: [conf] });", "after: [conf], before: [tools] });") };
    const r = await depc(cyclic, "graph", "env/prod");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error DEPC4004: Dependency cycle on host "front.example.com"');
    const dot = parseDot(r.stdout);
    expect(dot.edges.some((e) => e.from === "r4" && e.to === "c2" && e.attrs.label === "before")).toBe(true);
  });

  it("draws whenChanged as notification edges (from a resource or a component), and one edge per pair with every reason", async () => {
    // ini is inside dir and after it (one edge, two reasons); reload reacts to ini
    // (after it, too) and to every resource of component conf.
    const notify = {
      "env/prod.ts": `import { component, environment, Command, Directory, File } from "depc";
const conf = component({ name: "conf", build() { File({ path: "/etc/conf.d/a.conf", content: "a\\n" }); } });
const dir = Directory({ path: "/srv/app" });
const ini = File({ path: "/srv/app/app.ini", content: "x\\n", after: [dir] });
const reload = Command({ name: "reload", command: ["/bin/true"], after: [ini], whenChanged: [ini, conf] });
export default environment({ hosts: { h: [dir, ini, conf, reload] } });
`,
    };
    const dot = await depc(notify, "graph", "env/prod");
    expect(dot.stderr).toBe("");
    expect(dot.code).toBe(0);
    expect(dot.stdout).toBe(`// depc graph of environment prod
// Arrows point from what converges first to what converges later; dashed lines join a component to its parts.
digraph "prod" {
  graph [rankdir=LR, fontname="Helvetica", fontsize=11];
  node [fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9];
  subgraph "cluster_h" {
    label="host h";
    style=rounded;
    c1 [label="conf", shape=box, style="rounded,filled", fillcolor=lightyellow];
    r1 [label="directory /srv/app", shape=note];
    r2 [label="file /srv/app/app.ini", shape=note];
    r3 [label="file /etc/conf.d/a.conf", shape=note];
    r4 [label="command reload", shape=note];
  }
  c1 -> r3 [style=dashed, arrowhead=none, color=gray50];
  r1 -> r2 [label="contains, after", color=gray30];
  r2 -> r4 [label="after, notifies", style=bold];
  c1 -> r4 [label="notifies", color=darkorange, fontcolor=darkorange];
}
`);
    parseDot(dot.stdout);
    const mermaid = await depc(notify, "graph", "env/prod", "--format", "mermaid");
    expect(mermaid.stdout).toBe(`%% depc graph of environment prod
%% Arrows point from what converges first to what converges later; dotted lines join a component to its parts.
flowchart LR
  subgraph h1["host h"]
    c1("conf")
    r1["directory /srv/app"]
    r2["file /srv/app/app.ini"]
    r3["file /etc/conf.d/a.conf"]
    r4["command reload"]
  end
  c1 -.- r3
  r1 -->|"contains, after"| r2
  r2 -->|"after, notifies"| r4
  c1 -.->|"notifies"| r4
`);
    const parsed = parseMermaid(mermaid.stdout);
    expect(parsed.edges.map(([from, , to, label]) => [from, to, label ?? null])).toEqual(
      parseDot(dot.stdout).edges.map((e) => [e.from, e.to, e.attrs.label ?? null]),
    );
  });

  it("rejects an unknown format", async () => {
    const r = await depc(model, "graph", "env/prod", "--format", "svg");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Invalid values");
  });
});
