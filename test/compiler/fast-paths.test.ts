/**
 * The emitter's and validator's fast paths (a one-scan test for the usual
 * plain value, added for the 102,000-resource build) give exactly what the
 * general code gives: bundles must not change by a byte. Each property
 * compares a function with the general rule it shortcuts, over strings
 * drawn mostly from the characters those rules care about.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ledgerField } from "../../compiler/emit/bundle.js";
import { commentText, shellQuote } from "../../compiler/emit/quote.js";
import { HIDDEN, visible } from "../../compiler/visible.js";
import { checkPath } from "../../kinds/checks.js";

const tricky = fc.constantFrom("/", "/", "/", ".", ".", "a", "Z", "0", "-", "_", "~", " ", "'", "\\", "\t", "\n", "\u0000", "\u001b", "é", "\u202e", "😀", "\ud800");
const text = fc.oneof(fc.array(tricky, { maxLength: 24 }).map((cs) => cs.join("")), fc.string({ unit: "grapheme", maxLength: 24 }), fc.string({ unit: "binary", maxLength: 24 }));
const RUNS = { numRuns: 2000 };

describe("fast paths give what the general code gives", () => {
  it("checkPath: a path returned as it is equals its normalization (a trailing / always takes the general path)", () => {
    fc.assert(
      fc.property(text, (value) => {
        const reported: string[][] = [[], []];
        const fast = checkPath("file", value, undefined, (d) => reported[0]!.push(d.code));
        const general = checkPath("file", `${value}/`, undefined, (d) => reported[1]!.push(d.code));
        expect(fast).toBe(general);
        expect(reported[0]!.length > 0).toBe(reported[1]!.length > 0);
      }),
      RUNS,
    );
  });

  it("checkPath: the limits hold on the fast path (NAME_MAX 255 bytes per name, PATH_MAX 4095 bytes)", () => {
    const codes = (value: string) => {
      const out: string[] = [];
      checkPath("file", value, undefined, (d) => out.push(d.code));
      return out;
    };
    expect(codes(`/${"n".repeat(255)}`)).toEqual([]);
    expect(codes(`/${"n".repeat(256)}`)).toEqual(["DEPC2020"]);
    const long = `/${"p/".repeat(2046)}xy`;
    expect(long.length).toBe(4095);
    expect(codes(long)).toEqual([]);
    expect(codes(`${long}y`)).toEqual(["DEPC2021"]);
    expect(checkPath("file", "/srv/a/./b//c/", undefined, () => {})).toBe("/srv/a/b/c");
  });

  it("shellQuote: plain single quotes when the value has no quote and nothing hidden", () => {
    fc.assert(
      fc.property(text, (value) => {
        if (value.includes("\0")) expect(() => shellQuote(value)).toThrow(/NUL/);
        else if (!HIDDEN.test(value)) expect(shellQuote(value)).toBe(`'${value.replace(/'/g, `'\\''`)}'`);
        else expect(shellQuote(value)).toContain(`"$(printf '`);
      }),
      RUNS,
    );
  });

  it("commentText and ledgerField: the value itself when there is nothing to spell out", () => {
    fc.assert(
      fc.property(text, (value) => {
        expect(commentText(value)).toBe(visible(value).replace(/\n/g, "\\n").replace(/\t/g, "\\t"));
        expect(ledgerField(value)).toBe(value.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n"));
      }),
      RUNS,
    );
  });
});
