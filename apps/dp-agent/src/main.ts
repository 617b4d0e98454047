// Filled in by the dataplane identity capability (issue 4): until then it says what it will take.
process.stdout.write(`meshca-dp: the dataplane agent

usage: meshca-dp --zone https://HOST:PORT --token-file FILE --dir DIR [--reload-command CMD]

Not implemented yet in this build: the agent arrives with dataplane identity issuance.
`);
process.exit(process.argv.includes('--help') || process.argv.includes('-h') ? 0 : 2);
