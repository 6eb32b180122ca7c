/**
 * The one way a string becomes shell text. Single quotes keep every byte
 * but NUL literally — `$`, backquotes, `\`, newlines and all — so user data
 * is always a word and never code. A `'` closes the quote, adds an escaped
 * quote and reopens: `it's` → `'it'\''s'`.
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("depc: a NUL byte cannot be passed to the shell (validation should have caught it)");
  return `'${value.replace(/'/g, `'\\''`)}'`;
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
  return value.replace(/[\u0000-\u001f\u007f\u0080-\u009f\u2028\u2029]/g, "?");
}
