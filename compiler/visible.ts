/**
 * Characters that must not reach a terminal or a reviewer's eyes raw: C0
 * controls (escape sequences, CR, backspace), DEL, C1 controls, line and
 * paragraph separators, and Unicode bidirectional controls, which reorder
 * what a reader sees ("Trojan Source"). `\t` and `\n` are ordinary text.
 */
export const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const HIDDEN_ALL = new RegExp(HIDDEN.source, "g");

/** `\x1b`, `\r`, `\u202e`: how a hidden character is shown. */
export function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  if (char === "\r") return "\\r";
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * The one way text that depc does not control (bytes from a host, paths
 * from a model) is shown to a person: hidden characters are spelled out
 * visibly, everything else is kept. Used for deploy and plan output,
 * relayed diffs, and bundle comments.
 */
export function visible(text: string): string {
  return HIDDEN.test(text) ? text.replace(HIDDEN_ALL, escapeChar) : text;
}
