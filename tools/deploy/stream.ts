// Splits what a remote program prints into bundle output lines, marker
// lines (`@@<nonce> <word> [text]`, see remote.ts) and report lines.

export interface StreamEvents {
  /** A line the bundle printed (without its newline). */
  readonly output?: (line: string) => void;
  readonly marker?: (word: string, text: string) => void;
}

export class MarkerStream {
  private buffer = "";
  private section: "before" | "output" | "report" | "kept" | "order" | "log" | "after" = "before";
  readonly markers: { word: string; text: string }[] = [];
  readonly reportLines: string[] = [];
  readonly kept: string[] = [];
  /** bundles/.order: kept digests, most recently applied last. */
  readonly order: string[] = [];
  readonly log: string[] = [];
  /** Output lines seen before the run started (login banners, shell noise). */
  readonly preamble: string[] = [];
  private readonly tag: string;

  constructor(
    nonce: string,
    private readonly events: StreamEvents = {},
  ) {
    this.tag = `@@${nonce} `;
  }

  push(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
    }
  }

  /** Call at the end of the stream: a last line without newline counts. */
  end(): void {
    if (this.buffer !== "") this.line(this.buffer);
    this.buffer = "";
  }

  has(word: string): boolean {
    return this.markers.some((m) => m.word === word);
  }

  get(word: string): string | undefined {
    return this.markers.find((m) => m.word === word)?.text;
  }

  private line(line: string): void {
    const at = line.indexOf(this.tag);
    if (at < 0) {
      this.content(line);
      return;
    }
    // A bundle line without a final newline, followed by a marker.
    if (at > 0) this.content(line.slice(0, at));
    const rest = line.slice(at + this.tag.length);
    const space = rest.indexOf(" ");
    const word = space < 0 ? rest : rest.slice(0, space);
    const text = space < 0 ? "" : rest.slice(space + 1);
    this.markers.push({ word, text });
    switch (word) {
      case "run":
        this.section = "output";
        break;
      case "report":
        this.section = "report";
        break;
      case "kept":
        this.section = "kept";
        break;
      case "log":
        this.section = "log";
        break;
      case "order":
        this.section = "order";
        break;
      default:
        this.section = word === "exit" || word === "end" || word === "choose" ? "after" : this.section;
    }
    this.events.marker?.(word, text);
  }

  private content(line: string): void {
    switch (this.section) {
      case "output":
        this.events.output?.(line);
        break;
      case "report":
        this.reportLines.push(line);
        break;
      case "kept":
        if (line !== "") this.kept.push(line);
        break;
      case "log":
        this.log.push(line);
        break;
      case "order":
        if (line !== "") this.order.push(line);
        break;
      case "before":
        this.preamble.push(line);
        break;
      default:
        break;
    }
  }
}
