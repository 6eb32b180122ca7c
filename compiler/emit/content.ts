/**
 * How file content travels inside a bundle. Readable text goes in a quoted
 * here-document, byte for byte, so a reviewer reads the file as it will be.
 * Anything else — invalid UTF-8, NUL and other control bytes, or Unicode
 * bidirectional controls that could make a reviewer misread the bundle —
 * goes as `printf` octal escapes, which every POSIX shell decodes exactly.
 * With `builtin`, readable text goes verbatim in single quotes to
 * `printf '%s'` instead (a `'` as `'\''`): no `cat` process per file where
 * printf is a builtin (dash, bash, busybox sh, yash).
 */
export function contentFunction(name: string, bytes: Uint8Array, builtin = false): string {
  return content(name, bytes, builtin).text;
}

/** {@link contentFunction}'s text, and whether it calls depc_text_nonl (one pass over the bytes for both). */
export function content(name: string, bytes: Uint8Array, builtin = false): { readonly text: string; readonly textNonl: boolean } {
  if (bytes.length === 0) return { text: `${name}() { :; }`, textNonl: false };
  const text = readableText(bytes);
  if (builtin && text !== undefined) return { text: printfTextFunction(name, text, bytes.length), textNonl: false };
  const delimiter = text === undefined ? undefined : delimiterFor(text);
  if (text === undefined || delimiter === undefined) return { text: printfFunction(name, bytes), textNonl: false };
  if (text.endsWith("\n")) return { text: `${name}() {\n  cat <<'${delimiter}'\n${text}${delimiter}\n}`, textNonl: false };
  // A here-document always ends in a newline; this one gets one more, which depc_text_nonl removes.
  return { text: `${name}() {\n  depc_text_nonl <<'${delimiter}'\n${text}\n${delimiter}\n}`, textNonl: true };
}

// ignoreBOM: a leading U+FEFF is content, not a marker to drop.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const UNREADABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

function readableText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  return UNREADABLE.test(text) ? undefined : text;
}

const DELIMITERS = ["DEPC_EOF", "_DEPC_EOF", "EOF_DEPC", "ZZ_DEPC_EOF"];

/**
 * A here-document delimiter that is safe for this text, or undefined (then
 * the content goes as printf escapes). Safe means no line equals it, and —
 * for dash 0.5.12, Debian's /bin/sh — no line starts with a prefix of it
 * followed by a non-ASCII character: dash drops that character's first byte.
 */
function delimiterFor(text: string): string | undefined {
  // The usual case, without splitting: only a line starting with "D" can make DEPC_EOF unsafe.
  if (!text.startsWith("D") && !text.includes("\nD")) return DELIMITERS[0];
  const lines = text.split("\n");
  const safe = (d: string) =>
    lines.every((line) => {
      if (line === d) return false;
      for (let k = 1; k <= d.length && k < line.length && line[k - 1] === d[k - 1]; k++) {
        if (line.charCodeAt(k) >= 0x80) return false;
      }
      return true;
    });
  for (let n = 0; n < 10; n++) {
    for (const base of DELIMITERS) {
      const d = n === 0 ? base : `${base}_${n}`;
      if (safe(d)) return d;
    }
  }
  return undefined;
}

/** printf text per call for content a reviewer reads: split after newlines, ≤ ~4 KiB. */
const CHUNK = 4096;
/**
 * printf text per call for binary content (invalid UTF-8 or a NUL byte):
 * mksh and posh run an external printf for every call, so fewer, longer
 * calls (a 1 MiB file took them 20-30 s in 4 KiB calls).
 */
const BINARY_CHUNK = 32 * 1024;
/**
 * printf calls per function: bash (and busybox sh) recurse once per command
 * of a function body and crashed (SIGSEGV) on a 6 MiB file's ~4500 calls, so
 * longer content goes into part functions called in order.
 */
const CALLS_PER_FUNCTION = 256;

/** A content function of printf calls, in part functions when there are many. */
function printfFunction(name: string, bytes: Uint8Array): string {
  return callsFunction(name, printfChunks(bytes, isBinary(bytes) ? BINARY_CHUNK : CHUNK));
}

/** A function running `calls` in order, in part functions of CALLS_PER_FUNCTION when there are more. */
function callsFunction(name: string, calls: readonly string[]): string {
  if (calls.length <= CALLS_PER_FUNCTION) return `${name}() {\n${calls.join("\n")}\n}`;
  const parts: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < calls.length; i += CALLS_PER_FUNCTION) {
    const part = `${name}_part${names.length + 1}`;
    names.push(part);
    parts.push(`${part}() {\n${calls.slice(i, i + CALLS_PER_FUNCTION).join("\n")}\n}`);
  }
  return `${parts.join("\n")}\n${name}() {\n${names.map((n) => `  ${n} || return`).join("\n")}\n}`;
}

function isBinary(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return true;
  try {
    decoder.decode(bytes);
    return false;
  } catch {
    return true;
  }
}

/**
 * `printf` calls with octal escapes, ≤ ~`max` characters each; readable
 * content (max = CHUNK) is split after newlines where possible.
 */
function printfChunks(bytes: Uint8Array, max: number): string[] {
  const calls: string[] = [];
  let chunk = "";
  const flush = () => {
    if (chunk === "") return;
    calls.push(`  printf '${chunk}'`);
    chunk = "";
  };
  const lines = max === CHUNK;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    let piece: string;
    if (b === 0x25) piece = "%%";
    else if (b === 0x5c) piece = "\\\\";
    else if (b === 0x27 || (b === 0x2d && chunk === "") || b < 0x20 || b > 0x7e) piece = `\\${b.toString(8).padStart(3, "0")}`;
    else piece = String.fromCharCode(b);
    chunk += piece;
    if ((lines && b === 0x0a && chunk.length >= 80) || chunk.length >= max) flush();
  }
  flush();
  return calls;
}

/** Bytes of readable text per `printf '%s'` call: far below Linux's 128 KiB per argument (mksh and posh run /usr/bin/printf). */
const TEXT_CHUNK = 32 * 1024;

/** Readable text as `printf '%s' '…'` calls, split after a newline (or a whole character) once a chunk holds TEXT_CHUNK bytes. */
function printfTextFunction(name: string, text: string, byteLength: number): string {
  const quote = (chunk: string) => `  printf '%s' '${chunk.replace(/'/g, "'\\''")}'`;
  // Shorter than the first point where the loop below may split: one call, without walking every character.
  if (byteLength < TEXT_CHUNK - 4096) return callsFunction(name, [quote(text)]);
  const calls: string[] = [];
  let chunk = "";
  let size = 0;
  const flush = () => {
    if (chunk === "") return;
    calls.push(quote(chunk));
    chunk = "";
    size = 0;
  };
  for (const ch of text) {
    chunk += ch;
    size += Buffer.byteLength(ch);
    if ((ch === "\n" && size >= TEXT_CHUNK - 4096) || size >= TEXT_CHUNK) flush();
  }
  flush();
  return callsFunction(name, calls);
}
