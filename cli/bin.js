#!/usr/bin/env node
'use strict';
// `npx aimo …`: runs the TypeScript CLI through tsx's require hook (no build step).
require('tsx/cjs');
const { run } = require('./main.ts');

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
