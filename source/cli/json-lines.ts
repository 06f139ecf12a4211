/** Headless output: one JSON object per line on stdout, the scripting contract. */
export function printLine(event: object): void {
	process.stdout.write(`${JSON.stringify(event)}\n`);
}

/**
 * The ready line comes first, whatever happened while starting: events before it (a
 * recovery, a rejoin) are held and printed right after it, in order. Scripts wait for
 * `ready` and then read on; a line before it would be one they never see.
 */
export class ReadyFirst {
	#held: object[] | null = [];

	readonly sink = (event: object): void => {
		if (this.#held === null) printLine(event);
		else this.#held.push(event);
	};

	ready(line: object): void {
		printLine(line);
		for (const event of this.#held ?? []) printLine(event);
		this.#held = null;
	}
}
