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
  type ProvideOptions,
  type RequireOptions,
  type DrainOption,
} from "./component.js";
export { haproxyDrain, commandDrain, type BatchSize, type CommandDrainOptions, type Drain, type HaproxyDrainOptions, type RolloutPolicy } from "./rollout.js";
export { key, type Key } from "./key.js";
export { File, template, type FileOptions, type FileProps, type FileResource } from "../kinds/file/file.js";
export { fromFile } from "./from-file.js";
export { fromDirectory, type DirectorySource } from "./from-directory.js";
export { Tree, type TreeOptions, type TreeResource } from "../kinds/tree/tree.js";
export { Directory, type DirectoryOptions, type DirectoryResource } from "../kinds/directory/directory.js";
export { Symlink, type SymlinkOptions, type SymlinkResource } from "../kinds/symlink/symlink.js";
export { Command, type Argv, type CommandOptions, type CommandResource } from "../kinds/command/command.js";
export { VirtualEnv, type VirtualEnvOptions, type VirtualEnvResource } from "../kinds/virtualenv/virtualenv.js";
export { Buildout, type BuildoutOptions, type BuildoutResource } from "../kinds/buildout/buildout.js";
export {
  Service,
  type RestartPolicy,
  type ServiceOptions,
  type ServiceProps,
  type ServiceResource,
  type ServiceType,
  type ServiceTypedOptions,
  type ServiceUnitOptions,
  type UnitRef,
  type UnitValue,
} from "../kinds/service/service.js";
export type { Dependency, Mode, Principal, Relations, Resource } from "./resource.js";
export { secret, secretText, type Secret, type SecretContent, type SecretEncoding, type SecretOptions, type SecretText } from "./secret.js";
export { Timer, type TimerOptions, type TimerResource } from "../kinds/timer/timer.js";
export { CronJob, type CronJobOptions, type CronJobResource } from "../kinds/cron/cron.js";
export { Logrotate, type LogrotateOptions, type LogrotateResource } from "../kinds/logrotate/logrotate.js";
export { HealthCheck, type HealthCheckOptions, type HealthCheckResource, type HealthProbe, type HttpProbe, type TcpProbe } from "../kinds/healthcheck/healthcheck.js";
export { Supervisor, Program, type SupervisorOptions, type SystemSupervisorOptions, type UserSupervisorOptions, type SupervisorResource, type ProgramOptions, type ProgramResource } from "../kinds/supervisor/supervisor.js";
export { User, type UserOptions, type UserResource } from "../kinds/user/user.js";
export { Group, type GroupOptions, type GroupResource } from "../kinds/group/group.js";
export { Download, type DownloadOptions, type DownloadResource } from "../kinds/download/download.js";
export { Extract, type ExtractOptions, type ExtractResource } from "../kinds/extract/extract.js";
export { Package, type PackageOptions, type PackageResource } from "../kinds/package/package.js";
export { PullAgent, type PullAgentOptions } from "./pull-agent.js";
