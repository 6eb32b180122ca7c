// depc's real test-host harness. See README.md.
export { Testbed, BRIDGE, SUBNET } from './testbed.js';
export type { HostSpec, TestbedOptions, ExecOptions, ExecResult, AddUserOptions, Shell } from './testbed.js';
export { testbedPrerequisites, APT_PACKAGES } from './prerequisites.js';
export type { Prerequisites } from './prerequisites.js';
export { ensureRootfs, recipeHash, cacheRoot, RECIPES } from './rootfs.js';
export { APT_REPO_PACKAGES, ensureAptSet } from './apt.js';
export type { AptRepository } from './apt.js';
export { startHttpStore, STORE_SERVER_BLOCK } from './http-store.js';
export type { HttpStore } from './http-store.js';
