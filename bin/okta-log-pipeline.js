#!/usr/bin/env node
// The package `bin`: runs the TypeScript command-line tool through tsx, so `npx okta-log-pipeline`
// works right after `npm ci` with no build step.
'use strict';
require('tsx/cjs/api').register();
require('./cli.ts');
