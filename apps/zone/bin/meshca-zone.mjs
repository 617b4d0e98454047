#!/usr/bin/env node
// Runs the TypeScript entry point directly: no build step between `npm install` and use.
import { register } from 'tsx/esm/api';
register();
await import('../src/main.ts');
