/** A mistake of the person at the keyboard: printed as one line on stderr, exit code 1. */
export class UsageError extends Error {}
