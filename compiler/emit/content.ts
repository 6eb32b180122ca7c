/**
 * How file content travels inside a bundle. Readable text goes in a quoted
 * here-document, byte for byte, so a reviewer reads the file as it will be.
 * Anything else — invalid UTF-8, NUL and other control bytes, or Unicode
 * bidirectional controls that could make a reviewer misread the bundle —
 * goes as `printf` octal escapes, which every POSIX shell decodes exactly.
 */
export function contentFunction(name: string, bytes: Uint8Array): string {
  if (bytes.length === 0) return `${name}() { :; }`;
  const text = readableText(bytes);
  if (text === undefined) return `${name}() {\n${printfChunks(bytes)}\n}`;
  const delimiter = delimiterFor(text);
  if (text.endsWith("\n")) return `${name}() {\n  cat <<'${delimiter}'\n${text}${delimiter}\n}`;
  // A here-document always ends in a newline; this one gets one more, which depc_text_nonl removes.
  return `${name}() {\n  depc_text_nonl <<'${delimiter}'\n${text}\n${delimiter}\n}`;
}

/** Whether a content function needs the runtime's depc_text_nonl. */
export function needsTextNonl(bytes: Uint8Array): boolean {
  const text = bytes.length > 0 ? readableText(bytes) : undefined;
  return text !== undefined && !text.endsWith("\n");
}

const decoder = new TextDecoder("utf-8", { fatal: true });
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

function delimiterFor(text: string): string {
  const lines = new Set(text.split("\n"));
  let delimiter = "DEPC_EOF";
  for (let n = 1; lines.has(delimiter); n++) delimiter = `DEPC_EOF_${n}`;
  return delimiter;
}

const CHUNK = 4096;

/** `printf` calls with octal escapes, split after newlines where possible, ≤ ~4 KiB each. */
function printfChunks(bytes: Uint8Array): string {
  const calls: string[] = [];
  let chunk = "";
  const flush = () => {
    if (chunk === "") return;
    calls.push(`  printf '${chunk}'`);
    chunk = "";
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    let piece: string;
    if (b === 0x25) piece = "%%";
    else if (b === 0x5c) piece = "\\\\";
    else if (b === 0x27 || (b === 0x2d && chunk === "") || b < 0x20 || b > 0x7e) piece = `\\${b.toString(8).padStart(3, "0")}`;
    else piece = String.fromCharCode(b);
    chunk += piece;
    if ((b === 0x0a && chunk.length >= 80) || chunk.length >= CHUNK) flush();
  }
  flush();
  return calls.join("\n");
}
