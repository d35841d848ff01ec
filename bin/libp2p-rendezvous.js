#!/usr/bin/env node
// the compiled entry; `npm run build` (run by `prepare`) produces it
import '../dist/src/cli/main.js'
