/** Why joining failed, in one sentence for the operator: the CLI prints it and exits 1. */
export class JoinError extends Error {}
