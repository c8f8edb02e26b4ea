#!/usr/bin/env node
'use strict';
// meshctl's entry point: runs the TypeScript sources through tsx (a devDependency that
// `npm ci` installs), so a fresh clone needs no build step before `npx meshctl`.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
const { meshctl } = require('../meshctl.ts');
const { processIo } = require('../io.ts');

meshctl(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 2;
  },
);
