import { describe, expect, it } from "vitest";
import { content, contentFunction } from "../../compiler/emit/content.js";
import { commentText, shellQuote } from "../../compiler/emit/quote.js";
import { parseRuntime, selectRuntime } from "../../compiler/emit/runtime.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("shellQuote", () => {
  it("single-quotes everything and escapes quotes the one POSIX way", () => {
    expect(shellQuote("plain")).toBe("'plain'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("it's $(x) `y` \\n")).toBe(`'it'\\''s $(x) \`y\` \\n'`);
  });
  it("refuses NUL, which no shell word can hold", () => {
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
  });
  it("comments get one line, hidden characters spelled out", () => {
    expect(commentText("a\nb\u001b[2Jc\u2028\td\u202e\r")).toBe("a\\nb\\x1b[2Jc\\u2028\\td\\u202e\\r");
  });
  it("escape sequences, CR and bidi controls become printf pieces of the same word", () => {
    expect(shellQuote("a\u202eb")).toBe(`'a'"$(printf '\\342\\200\\256')"'b'`);
    expect(shellQuote("\u001b[2J\r")).toBe(`"$(printf '\\033')"'[2J'"$(printf '\\015')"`);
    expect(shellQuote("it's\n\u200f")).toBe(`'it'\\''s\n'"$(printf '\\342\\200\\217')"`);
  });
});

describe("content functions", () => {
  it("readable text goes verbatim into a quoted here-document", () => {
    expect(contentFunction("c", bytes("port = 1\n$HOME `x`\n"))).toBe("c() {\n  cat <<'DEPC_EOF'\nport = 1\n$HOME `x`\nDEPC_EOF\n}");
  });
  it("text without a final newline is marked for depc_text_nonl", () => {
    expect(contentFunction("c", bytes("abc"))).toBe("c() {\n  depc_text_nonl <<'DEPC_EOF'\nabc\nDEPC_EOF\n}");
    expect(content("c", bytes("abc")).textNonl).toBe(true);
    expect(content("c", bytes("abc\n")).textNonl).toBe(false);
  });
  it("a line equal to the delimiter, or one dash would mangle, picks another delimiter", () => {
    expect(contentFunction("c", bytes("DEPC_EOF\n"))).toContain("<<'_DEPC_EOF'");
    // dash 0.5.12 drops a byte after a delimiter prefix followed by non-ASCII.
    expect(contentFunction("c", bytes("Dänemark\n"))).toContain("<<'_DEPC_EOF'");
  });
  it("empty content is a no-op function", () => {
    expect(contentFunction("c", new Uint8Array())).toBe("c() { :; }");
  });
  it("binary, control characters and bidi overrides go as printf octal escapes", () => {
    expect(contentFunction("c", Uint8Array.from([0, 0x25, 0x5c, 0x27, 0xff]))).toBe("c() {\n  printf '\\000%%\\\\\\047\\377'\n}");
    expect(contentFunction("c", bytes("a\u001bb\n"))).toContain("printf 'a\\033b\\012'");
    expect(contentFunction("c", bytes("x\u202ey\n"))).toContain("printf 'x\\342\\200\\256y\\012'");
    // A leading '-' would be read as an option by some printf builtins.
    expect(contentFunction("c", Uint8Array.from([0x2d, 0x01]))).toBe("c() {\n  printf '\\055\\001'\n}");
  });
  it("a leading byte order mark is content, kept exactly", () => {
    expect(contentFunction("c", bytes("\ufeffhi\n"))).toContain("printf '\\357\\273\\277hi\\012'");
  });
});

describe("runtime tree shaking", () => {
  const files = [
    {
      name: "a.sh",
      text: "# header of the file\n\n# says hello\ndepc_hello() {\n  depc_say hi\n}\n\ndepc_say() { printf '%s\\n' \"$1\"; }\n\n# unused\ndepc_unused() {\n  :\n}\n",
    },
  ];
  it("keeps the functions reachable from the roots, with their comments, in file order", () => {
    expect(selectRuntime(["depc_hello"], parseRuntime(files))).toBe(
      "# says hello\ndepc_hello() {\n  depc_say hi\n}\n\ndepc_say() { printf '%s\\n' \"$1\"; }",
    );
  });
  it("rejects top-level code in runtime files and unknown roots", () => {
    expect(() => parseRuntime([{ name: "b.sh", text: "echo hi\n" }])).toThrow(/top-level code is not allowed/);
    expect(() => selectRuntime(["depc_nope"], parseRuntime(files))).toThrow(/does not exist/);
  });
});
