/** A mistake of the person at the keyboard: printed as one line on stderr, exit code 1. */
export class UsageError extends Error {}

/** Some messages (node's argument parser's) span lines; a person reads one. */
export function oneLine(message: string): string {
	return message.replace(/\s*\n\s*/g, ' ');
}
