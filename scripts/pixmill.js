#!/usr/bin/env node
// `npx pixmill` in the Pixmill repository: builds the CLI package (apps/cli) when its sources
// or the SDK's changed, then runs its command, as the installed @pixmill/cli would.
require('./ensure-cli-build').ensureCliBuild({ quiet: true });
require('../apps/cli/bin/pixmill.js');
