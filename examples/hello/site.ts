import { Command, Directory, File, Symlink, template } from "depc";

export interface SiteSettings {
  /** Where the site lives. */
  readonly root: string;
  /** The page's text. */
  readonly greeting: string;
  readonly port: number;
}

/** The server's config, rendered from typed values. */
const serverIni = (v: { port: number; root: string }) => `[server]\nport = ${v.port}\ndocument_root = ${v.root}/current\n`;

/** A tiny static site: its directories, config, page and a release link. */
export function site(s: SiteSettings) {
  const page = File({
    path: `${s.root}/releases/1/index.html`,
    content: `<!doctype html>\n<title>hello</title>\n<p>${s.greeting}</p>\n`,
  });
  return [
    Directory({ path: s.root }),
    Directory({ path: `${s.root}/releases/1` }),
    page,
    File({
      path: `${s.root}/server.ini`,
      mode: 0o640,
      content: template(serverIni, { port: s.port, root: s.root }),
    }),
    Symlink({ path: `${s.root}/current`, target: "releases/1" }),
    // A hook: runs once after the page changed (and is remembered if the run fails first).
    Command({
      name: "record-release",
      command: ["sh", "-c", 'printf "page changed: %s\\n" "$1" >> "$2"', "record-release", s.greeting, `${s.root}/releases.log`],
      whenChanged: [page],
    }),
  ];
}
