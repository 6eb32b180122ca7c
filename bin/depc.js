#!/usr/bin/env node
// The depc command. The compiler lives in dist/ (built by `npm install` via `prepare`).
import { main } from "../dist/compiler/cli.js";

process.exitCode = await main(process.argv.slice(2));
