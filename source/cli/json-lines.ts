/** Headless output: one JSON object per line on stdout, the scripting contract. */
export function printLine(event: object): void {
	process.stdout.write(`${JSON.stringify(event)}\n`);
}
