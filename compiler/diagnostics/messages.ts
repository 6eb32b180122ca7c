/**
 * The catalogue of depc's own diagnostics. Codes are stable: users search
 * for them and scripts match them. Never renumber; retire a code instead.
 * Templates name their arguments: `{path}` is replaced by `args.path`.
 *
 * 1xxx: loading and evaluating the model; 2xxx: resources; 3xxx: hosts
 * and environments; 4xxx: components and wiring; 5xxx: secrets; 9xxx: the
 * build's own I/O.
 */
export const messages = {
  environmentNotFound: { code: 1001, text: "Cannot find environment module '{path}'. Give a path to an environment module such as env/prod or env/prod.ts." },
  // The same mistake, with the environments that exist next to it.
  environmentNotFoundNear: { code: 1001, text: "Cannot find environment module '{path}'. The environments in {dir} are: {known}.{suggestion}" },
  noDefaultEnvironment: { code: 1002, text: "The environment module must default-export environment({...}); its default export is {found}." },
  evaluationThrew: { code: 1003, text: "Evaluating the model threw: {message}" },
  // A model that would end, crash or hang depc (compiler/evaluate/guard.ts).
  modelExited: { code: 1010, text: "The model called {call} while it was evaluated; a model cannot end depc. Throw an Error to stop the build with a message." },
  evaluationTimedOut: {
    code: 1011,
    text: "Evaluating the model took longer than {seconds} s, so it was stopped (an endless loop?). If it really needs longer, raise the limit: --eval-timeout SECONDS (or DEPC_EVAL_TIMEOUT).",
  },
  timerLeft: {
    code: 1012,
    text: "The model started {kind}() and left it pending: a model is evaluated once, synchronously, so its timers never run (depc cleared it). Compute the value directly instead.",
  },
  asyncFailure: { code: 1013, text: "The model's asynchronous code failed: {message}. A model is evaluated synchronously: a promise it starts is never awaited." },
  nodeTypesMissing: { code: 1014, text: "Cannot find {name}: Node's type declarations are not installed. Install them with npm install --save-dev @types/node (depc uses them when the project has them; it does not read tsconfig.json)." },

  pathNotAbsolute: { code: 2001, text: "{kind} path must be absolute: {path}" },
  pathControlCharacter: { code: 2002, text: "{kind} path contains a control character ({char}): {path}" },
  pathDotDot: { code: 2003, text: "{kind} path contains a '..' segment: {path}" },
  invalidMode: { code: 2004, text: "{kind} {path}: mode {mode} is not an octal mode between 0000 and 7777." },
  duplicatePath: { code: 2005, text: "{path} is declared twice on host {host}: as {kind} here and as {otherKind} elsewhere." },
  pathUnderNonDirectory: { code: 2006, text: "{kind} {path} is inside {parent}, which host {host} declares as a {parentKind}." },
  invalidPrincipal: { code: 2007, text: "{kind} {path}: {field} {value} is not a valid user or group (a name like www-data, or a numeric id)." },
  fileContentMissing: { code: 2008, text: "File {path} needs content: give `content` (a string or bytes) or a `template` with its `vars`." },
  symlinkTargetInvalid: { code: 2009, text: "Symlink {path}: the target {problem}." },
  pathEmpty: { code: 2010, text: "{kind} path is missing or empty." },
  notAResource: { code: 2011, text: "Host {host} lists {found}, which is not a resource. Place resources made by File(), Directory(), Symlink(), …" },
  invalidCommandName: { code: 2013, text: "Command name {name} cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._:@-]*." },
  invalidCommand: { code: 2014, text: "Command {name}: {field} {problem}." },
  invalidCommandEnv: { code: 2015, text: "Command {name}: environment variable {variable} {problem}." },
  commandWithoutGuard: { code: 2016, text: "Command {name} has no guard: give creates, unless, onlyIf or whenChanged, or always: true to run it on every apply." },
  invalidTimeout: { code: 2017, text: "Command {name}: timeout {value} is not a positive whole number of seconds." },
  notWellFormed: { code: 2018, text: "{what} {value} contains a lone UTF-16 surrogate: it is not valid Unicode and cannot be written as UTF-8." },
  contentTooLarge: {
    code: 2019,
    text: "{kind} {path}: the content is {size} bytes; a bundle carries at most {max} bytes ({maxMiB} MiB) per content. Every shell that runs a bundle reads the whole script into memory first, and larger content made bash and busybox sh crash. Put a large file on the host another way: a Command that downloads it (with creates: the path) or a package.",
  },
  pathIsRoot: { code: 2012, text: "{kind} path must not be the root directory '/'." },
  pathNameTooLong: { code: 2020, text: "{kind} path: the name {name} is {bytes} bytes long; a file or directory name may have at most {max} bytes (UTF-8)." },
  modeInDecimal: { code: 2022, text: "mode {mode} is a decimal number ({octal}); write it in octal: {fix}." },
  pathTooLong: { code: 2021, text: "{kind} path {path} is {bytes} bytes long; a path may have at most {max} bytes (UTF-8)." },
  invalidSupervisorFlavour: { code: 2150, text: "Supervisor flavour {value} is not \"system\" or \"user\"." },
  supervisorSocketTooLong: { code: 2151, text: "Supervisor control socket {socket} is {length} bytes long; a Unix socket path may have at most {max}. Choose a shorter base." },
  unrepresentableSupervisorValue: { code: 2152, text: "{what} {value} cannot be used in a supervisor config: it {problem}." },
  invalidProgramName: { code: 2153, text: "Program name {name} cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]* (it names the supervisor program and its config file)." },
  programWithoutSupervisor: { code: 2154, text: "Program {name}: supervisor must be a resource made by Supervisor({...}), not {found}." },
  invalidProgramCommand: { code: 2155, text: "Program {name}: command {problem}." },
  invalidProgramEnvironment: { code: 2156, text: "Program {name}: environment variable {variable} {problem}." },
  invalidProgramOption: { code: 2157, text: "Program {name}: option {option} {problem}." },
  invalidProgramStartsecs: { code: 2158, text: "Program {name}: startsecs {value} is not a whole number of seconds from 0 to 3600." },
  invalidProgramFlag: { code: 2159, text: "Program {name}: {field} must be true or false, not {value}." },

  // Health checks (HealthCheck, and health/stableSeconds of Program and Service): 2470-2499.
  healthNotObject: { code: 2470, text: "{owner}: health must be an object like { http: { url: \"http://127.0.0.1:8000/\" } }, not {value}." },
  healthProbeCount: { code: 2471, text: "{owner}: a health check needs exactly one of http, tcp or command; it has {found}." },
  healthUnknownField: { code: 2472, text: "{owner}: a health check has no field {field}; its fields are http, tcp, command, retries, interval and timeout." },
  healthUrl: { code: 2473, text: "{owner}: health http url {url} {problem}." },
  healthStatus: { code: 2474, text: "{owner}: health http status {value} is not an HTTP status code (a whole number from 100 to 599)." },
  healthBody: { code: 2475, text: "{owner}: health http body {value} {problem}." },
  healthPort: { code: 2476, text: "{owner}: health tcp port {value} is not a port number (a whole number from 1 to 65535)." },
  healthHost: { code: 2477, text: "{owner}: health tcp host {value} is not a host name or an IP address." },
  healthCommand: { code: 2478, text: "{owner}: health command {problem}." },
  healthNumber: { code: 2479, text: "{owner}: health {field} {value} is not a whole number from {min} to {max}." },
  invalidHealthCheckName: { code: 2480, text: "HealthCheck name {name} cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]* (it names the check in reports)." },
  stableSeconds: { code: 2481, text: "{owner}: stableSeconds {value} is not a whole number of seconds from 0 to 600." },

  // VirtualEnv and Buildout: 2100-2149.
  virtualenvPython: { code: 2100, text: "VirtualEnv {path}: python {value} must be a program name (like python3) or an absolute path." },
  virtualenvNotAList: { code: 2101, text: "VirtualEnv {path}: {field} must be a list of strings, not {found}." },
  virtualenvRequirement: { code: 2102, text: "VirtualEnv {path}: requirements[{index}] {problem}." },
  virtualenvPipOption: { code: 2103, text: "VirtualEnv {path}: pipOptions[{index}] {problem}." },
  buildoutConfig: { code: 2110, text: "Buildout {path} needs config: the content of buildout.cfg as a string." },
  buildoutExtraFile: { code: 2111, text: "Buildout {path}: extra file {name} {problem}." },
  buildoutExecutable: { code: 2112, text: "Buildout {path}: executable {value} must be a program name (like buildout), an absolute path or a VirtualEnv." },
  buildoutTimeout: { code: 2113, text: "Buildout {path}: timeout {value} is not a positive whole number of seconds." },

  // Service (systemd): DEPC2200–2249.
  invalidServiceName: { code: 2200, text: "Service name {name} cannot be used: {problem}." },
  serviceNeedsUnit: { code: 2201, text: "Service {name} needs `unit` (the whole unit file) or `execStart` (a unit written from typed fields)." },
  serviceUnitAndTyped: { code: 2202, text: "Service {name}: `unit` is the whole unit file, so {fields} cannot be given too; write them into the unit." },
  serviceUnitContent: { code: 2203, text: "Service {name}: the unit {problem}." },
  serviceNotInstallable: { code: 2204, text: "Service {name} is enabled, but {what}, so `systemctl enable` cannot hook it in anywhere: {fix}, or set enabled: false." },
  serviceExecStart: { code: 2205, text: "Service {name}: execStart {problem}." },
  serviceFieldValue: { code: 2206, text: "Service {name}: {field} {value} {problem}." },
  serviceUnitRef: { code: 2207, text: "Service {name}: {field} {value} is not a unit name (like \"network-online.target\" or \"db.service\")." },
  serviceEnvironment: { code: 2208, text: "Service {name}: environment variable {variable} {problem}." },
  serviceExtraSection: { code: 2209, text: "Service {name}: extra section {section} is not a unit file section: use Unit, Service, Install or an X- section." },
  serviceExtraKey: { code: 2210, text: "Service {name}: extra {setting} {problem}." },
  serviceOption: { code: 2211, text: "Service {name}: {field} must be {expected}, not {value}." },

  // User, Group, Download, Extract (and implicit ordering by owner): DEPC2340–2379.
  invalidPrincipalName: { code: 2340, text: "{kind} name {name} cannot be used: {problem}." },
  principalIdRange: { code: 2341, text: "{kind} {name}: {field} {value} is not a whole number from 0 to {max}." },
  userOption: { code: 2342, text: "User {name}: {field} {problem}." },
  groupOption: { code: 2343, text: "Group {name}: {field} {problem}." },
  downloadUrl: { code: 2344, text: "Download {path}: url {value} {problem}." },
  downloadSha256: { code: 2345, text: "Download {path}: sha256 {value} {problem}." },
  extractOption: { code: 2346, text: "Extract {path}: {field} {problem}." },
  extractFormat: { code: 2347, text: "Extract {path}: cannot tell the format of archive {archive} from its name; give format: \"tar\", \"tar.gz\", \"tar.xz\", \"tar.bz2\" or \"zip\"." },
  // sched: Timer, CronJob, Logrotate (and Program's cold mode): DEPC2420–2469.
  invalidTimerName: { code: 2420, text: "Timer name {name} cannot be used: {problem}." },
  timerOnCalendar: { code: 2421, text: "Timer {name}: onCalendar {value} {problem}." },
  timerCommand: { code: 2422, text: "Timer {name}: command {problem}." },
  timerFieldValue: { code: 2423, text: "Timer {name}: {field} {value} {problem}." },
  timerEnvironment: { code: 2424, text: "Timer {name}: environment variable {variable} {problem}." },
  timerSeconds: { code: 2425, text: "Timer {name}: {field} {value} is not a whole number of seconds from {min} to {max}." },
  timerOption: { code: 2426, text: "Timer {name}: {field} must be {expected}, not {value}." },
  invalidCronJobName: { code: 2430, text: "CronJob name {name} cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]* (it labels the job's line in the crontab)." },
  cronJobSchedule: { code: 2431, text: "CronJob {name}: schedule {value} {problem}." },
  cronJobCommand: { code: 2432, text: "CronJob {name}: command {problem}." },
  invalidLogrotateName: { code: 2440, text: "Logrotate name {name} cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]* (it labels the entry in /etc/logrotate.d)." },
  logrotatePath: { code: 2441, text: "Logrotate {name}: path {path} {problem}." },
  logrotateOption: { code: 2442, text: "Logrotate {name}: {field} must be {expected}, not {value}." },
  logrotatePostrotate: { code: 2443, text: "Logrotate {name}: postrotate {problem}." },
  cronJobUser: { code: 2433, text: "CronJob {name}: user {value} is not a user name (like www-data; crontab -u takes names, not ids)." },
  // Package: DEPC2300–2339 (pkg).
  packageName: { code: 2300, text: "Package name {name} is not a Debian package name: {problem}." },
  packageVersion: { code: 2301, text: "Package {name}: version {version} is not a Debian version ([epoch:]upstream[-revision]): {problem}." },
  packageOption: { code: 2302, text: "Package {name}: {field} must be {expected}, not {value}." },
  // Tree (kinds/tree) and batched Files: the "files" range 2380–2419.
  treeSourceInvalid: { code: 2380, text: "Tree {path}: source must be fromDirectory(\"...\"), a directory of the project; it is {found}." },
  treeSourceMissing: { code: 2381, text: "Tree {path}: the source directory {dir} does not exist (fromDirectory({given}) is relative to the file that calls it)." },
  treeSourceNotDirectory: { code: 2382, text: "Tree {path}: the source {dir} is not a directory." },
  treeUnreadable: { code: 2383, text: "Tree {path}: cannot read {file}: {reason}." },
  treeSpecialFile: { code: 2384, text: "Tree {path}: {file} is a {type}; a Tree ships regular files and directories only. Remove it from the source or exclude it." },
  treeSymlink: {
    code: 2385,
    text: "Tree {path}: {file} is a symbolic link; a Tree ships regular files and directories only (a link could point outside the tree on the host). Copy what it points to into the source, or exclude it.",
  },
  treeTooLarge: {
    code: 2386,
    text: "Tree {path}: the source holds {size} bytes in {count} files; a bundle carries at most {max} bytes ({maxMiB} MiB) of Tree content. Exclude what the host does not need, or ship the code as a release archive.",
  },
  treeBadName: { code: 2387, text: "Tree {path}: {file} has a control character in its name ({char}); such a name cannot be shipped." },
  treeExcludeInvalid: { code: 2388, text: "Tree {path}: exclude must be a list of non-empty glob strings; {found} is not one." },

  invalidHostName: { code: 3001, text: "Host name {host} cannot be used: host names become bundle file names and must match [A-Za-z0-9][A-Za-z0-9._-]*." },
  invalidEnvironmentName: { code: 3002, text: "Environment name {name} cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]*." },
  noHosts: { code: 3003, text: "Environment {name} has no hosts: there is nothing to build." },
  invalidPort: { code: 3004, text: "Host {host}: port {port} is not a TCP port (1-65535)." },
  invalidRemoval: { code: 3040, text: "Environment option removal is {value}; it must be \"remove\" (remove what left the model) or \"report\" (only report it)." },
  // rollout (issue 11): rollout policy, drain. Range 3100–3149 and 4100–4119.
  rolloutFullOutage: {
    code: 3100,
    text: "The rollout of {component} takes all {count} of its hosts ({hosts}) down at once: its first batch, {batch}, is every host. Make the batches smaller, or set allowFullOutage: true to accept the outage.",
  },
  rolloutUnknownComponent: { code: 3101, text: "The rollout names component {component}, which no host of environment {env} runs. The components: {known}." },
  rolloutInvalid: { code: 3102, text: "The rollout of {component}: {field} {value} {problem}." },
  drainInvalid: { code: 4100, text: "{requirer} drains {provider} (key {key}): {problem}." },
  invalidHostField: { code: 3005, text: "Host {host}: {field} {value} is not usable for ssh: it must be non-empty, without whitespace, control characters or a leading '-'." },

  unsatisfiedRequire: { code: 4001, text: "{requirer} requires {key}, but no component provides it{where}." },
  unusedProvide: { code: 4002, text: "{provider} provides {key}, but no component requires it. Remove the provide, or make it optional (ctx.provide(key, value, { optional: true })) if only some environments use it." },
  ambiguousRequire: { code: 4003, text: "{requirer} requires exactly one {key}, but {count} components provide it: {candidates}." },
  cycleInHost: { code: 4004, text: "Dependency cycle on host {host}: {cycle}" },
  cycleAcrossHosts: { code: 4005, text: "Dependency cycle across hosts: {cycle}. Hosts are deployed in order, so each host must only wait for others." },
  duplicateInstance: { code: 4006, text: "Host {host} has two component instances named {name}; place the second with .named(\"other-name\")." },
  unsettled: { code: 4007, text: "provide/require does not settle after {rounds} rounds: the values of {keys} keep changing." },
  requireUnknownHost: { code: 4008, text: "{requirer} requires {key} from host {host}, which is not in environment {env}." },
  unknownSetting: { code: 4009, text: "{scope} sets {setting}, which component {component} does not have.{suggestion} Its settings: {known}." },
  invalidReference: { code: 4010, text: "{what} refers to {target}, which is not on host {host}." },
  notPlaceable: { code: 4011, text: "The build of {component} returned {found}; return resources, components or lists of them." },

  // the pull agent (issue 15, model/pull-agent.ts: PullAgent's options). Range 4230–4249.
  pullAgentStore: { code: 4230, text: "PullAgent store {value} is not an http:// or https:// URL ending in '/': give the store's root, the agent fetches <store>latest from it." },
  pullAgentPublisherKey: { code: 4231, text: "PullAgent publisherKey must be one ssh public key line as in the publisher key's .pub file (\"ssh-ed25519 AAAA... comment\"): {problem}." },
  pullAgentEvery: { code: 4232, text: "PullAgent {field} {value} {problem}." },
  pullAgentOption: { code: 4233, text: "PullAgent {field} {value} {problem}." },

  secretMisuse: { code: 5001, text: "{message}" },
  secretsFileMissing: { code: 5002, text: "The model uses secret {key}, but {file} does not exist. Create it with: depc secrets edit {env}" },
  secretsUnreadable: { code: 5003, text: "Cannot read the secrets of this environment: {reason}" },
  secretKeyMissing: { code: 5004, text: "Secret {key} is not in {file}. Its keys: {known}. Add it with: depc secrets edit {env}" },
  secretNotBase64: { code: 5006, text: "Secret {key} is used with encoding \"base64\", but its value in {file} is not valid base64." },
  secretNotAllowed: { code: 5005, text: "{where}: a secret cannot be used in {field}. Secrets go into a File's content (content: secret(\"key\") or secretText`...`)." },

  outputNotWritable: { code: 9001, text: "Cannot write the build output to {path}: {reason}" },
  outputNotABuild: {
    code: 9002,
    text: "Refusing to write the build to {path}: it {problem}. depc only replaces an empty directory or an earlier depc build. Choose another --out, or move the files away.",
  },
} as const satisfies Record<string, { code: number; text: string }>;

export type MessageId = keyof typeof messages;

/** `DEPC2001` for a catalogue entry. */
export function codeOf(id: MessageId): string {
  return `DEPC${messages[id].code}`;
}
