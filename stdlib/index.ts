// The API a deployment model imports: `import { environment, component, File } from "depc"`.
export { environment, type Environment, type EnvironmentOptions, type HostOptions, type HostSpec, type Overrides } from "./environment.js";
export {
  component,
  type BuildContext,
  type Component,
  type ComponentSpec,
  type ComponentUse,
  type HostData,
  type HostInfo,
  type Placeable,
  type RequireOptions,
} from "./component.js";
export { key, type Key } from "./key.js";
export { File, type FileOptions, type FileProps, type FileResource } from "./file.js";
export { Directory, type DirectoryOptions, type DirectoryResource } from "./directory.js";
export { Symlink, type SymlinkOptions, type SymlinkResource } from "./symlink.js";
export { Command, type Argv, type CommandOptions, type CommandResource } from "./command.js";
export type { Dependency, Mode, Principal, Relations, Resource } from "./resource.js";
export { secret, secretText, type Secret, type SecretContent, type SecretText } from "./secret.js";
