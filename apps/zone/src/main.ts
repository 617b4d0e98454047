// Filled in by the sync capability (issue 3): until then it says what it will take.
process.stdout.write(`meshca-zone: the zone control plane

usage: meshca-zone --zone NAME --global wss://HOST:5685 --zone-token-file FILE [--store memory|redis://...]

Not implemented yet in this build: the zone control plane arrives with global-to-zone sync.
`);
process.exit(process.argv.includes('--help') || process.argv.includes('-h') ? 0 : 2);
