// The API a deployment model imports: `import { environment, File } from "depc"`.
export { environment, type Environment, type EnvironmentOptions, type HostOptions, type HostSpec, type Placeable } from "./environment.js";
export { File, type FileOptions, type FileProps, type FileResource } from "./file.js";
export { Directory, type DirectoryOptions, type DirectoryResource } from "./directory.js";
export { Symlink, type SymlinkOptions, type SymlinkResource } from "./symlink.js";
export type { Mode, Principal, Resource } from "./resource.js";
