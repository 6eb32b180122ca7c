import { describe, expect, it } from "vitest";
import { Printer } from "../../tools/deploy/ui.js";
import { visible } from "../../compiler/visible.js";

describe("visible: the one escaping of text depc does not control", () => {
  it("spells out C0 (but tab and newline), DEL, C1, separators and bidi controls", () => {
    expect(visible("a\tb\nc")).toBe("a\tb\nc");
    expect(visible("\u001b]0;t\u0007\u001b[2J\r\b\u007f\u0085\u009b")).toBe("\\x1b]0;t\\x07\\x1b[2J\\r\\x08\\x7f\\x85\\x9b");
    expect(visible("\u2028\u2029\u202a\u202e\u2066\u2069\u200e\u200f\u061c")).toBe("\\u2028\\u2029\\u202a\\u202e\\u2066\\u2069\\u200e\\u200f\\u061c");
    expect(visible("h\u00e9llo \u20ac \u{1F389}")).toBe("h\u00e9llo \u20ac \u{1F389}");
  });

  it("deploy lines escape the host's bytes but keep depc's own colours", () => {
    let out = "";
    const printer = new Printer({ stdout: (t) => (out += t), stderr: () => {}, color: true, tty: false }, 4);
    printer.hostLine("web1", "failed", "command x: \u001b[2Jgone\r");
    out += printer.format("web1", "", "  -\u001b]0;t\u0007", "failed");
    expect(out).toBe(
      "web1  \u001b[31mfailed      \u001b[0m command x: \\x1b[2Jgone\\r\n" + "web1               \u001b[31m  -\\x1b]0;t\\x07\u001b[0m\n",
    );
  });
});
