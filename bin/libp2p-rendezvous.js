#!/usr/bin/env node
// the bundled program (`npm run build:cli`, run by `prepack`): it carries its server-only dependencies
import '../dist/cli/libp2p-rendezvous.js'
