import { HIDDEN, visible } from "../visible.js";

const singleQuoted = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
/** Runs of hidden characters, captured so that split() keeps them at odd indices. */
const HIDDEN_RUNS = new RegExp(`(${HIDDEN.source}+)`);
/** What a value needs more than plain single quotes for: a quote, or a hidden character (NUL among them). */
const NOT_PLAIN = new RegExp(`['${HIDDEN.source.slice(1)}`);
/** What a comment spells out: a hidden character, a newline or a tab. */
const NOT_PLAIN_COMMENT = new RegExp(`[\\t\\n${HIDDEN.source.slice(1)}`);
const octalEscapes = (text: string) => [...new TextEncoder().encode(text)].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");

/**
 * The one way a string becomes shell text. Single quotes keep every byte
 * but NUL literally — `$`, backquotes, `\`, newlines and all — so user data
 * is always a word and never code. A `'` closes the quote, adds an escaped
 * quote and reopens: `it's` → `'it'\''s'`.
 *
 * Characters a reviewer cannot see or that reorder the line (escape
 * sequences, CR, bidi controls: see visible.ts) would sit in the bundle
 * raw; they go as a `"$(printf '\342\200\256')"` piece of the same word
 * instead, as file content goes as printf escapes (content.ts): the shell
 * gets the exact bytes, the reader sees octal. (Never a newline: command
 * substitution would drop it, and a newline is visible anyway.)
 */
export function shellQuote(value: string): string {
  // The usual case in one scan (several per resource, 102,000 resources in a large build).
  if (!NOT_PLAIN.test(value)) return `'${value}'`;
  if (value.includes("\0")) throw new Error("depc: a NUL byte cannot be passed to the shell (validation should have caught it)");
  if (!HIDDEN.test(value)) return singleQuoted(value);
  return value
    .split(HIDDEN_RUNS)
    .map((part, i) => (i % 2 === 0 ? (part === "" ? "" : singleQuoted(part)) : `"$(printf '${octalEscapes(part)}')"`))
    .join("");
}

/**
 * A word as a person would type it: bare when it holds only characters no
 * shell treats specially, else {@link shellQuote}d. For messages to the
 * user (`cd my-app`); the bundle always quotes.
 */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9._/-]+$/.test(value) ? value : shellQuote(value);
}

/** Text safe to put in a `#` comment: one line, no control characters. */
export function commentText(value: string): string {
  // Every hidden character spelled out (`\u202e`, `\x1b`), newline and tab too.
  if (!NOT_PLAIN_COMMENT.test(value)) return value;
  return visible(value).replace(/\n/g, "\\n").replace(/\t/g, "\\t");
}
