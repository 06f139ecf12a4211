#!/usr/bin/env node
// React picks its build when first imported: the production one costs a third of the
// CPU per commit (measured-limits.md), so it is set before any role is loaded.
process.env['NODE_ENV'] ??= 'production';
// ink reads CI when first imported and, if set, draws nothing but the last frame. footfall
// draws a console only when stdout is a terminal, and a terminal is interactive whatever
// CI says (a CI job driving the console through tmux, an operator whose shell exports CI).
delete process.env['CI'];
delete process.env['CONTINUOUS_INTEGRATION'];

import { HELP } from './help.js';
import { UsageError, oneLine } from './usage-error.js';
import { ThemeError } from '../console/theme.js';
import { FixtureError } from '../model/load-mall.js';
import { JoinError } from '../roles/join-error.js';
import { ListenError } from '../network/udp-transport.js';
import { DataDirectoryError } from '../recovery/data-directory.js';

const roles: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
	tracker: async () => (await import('./run-tracker.js')).runTracker,
	peer: async () => (await import('./run-peer.js')).runPeer,
	observer: async () => (await import('./run-observer.js')).runObserver,
	demo: async () => (await import('./run-demo.js')).runDemo,
};

/** The errors a user can cause: their message is the whole story, no stack trace. */
function isUserError(error: unknown): error is Error {
	if (error instanceof UsageError || error instanceof FixtureError || error instanceof JoinError || error instanceof ListenError || error instanceof DataDirectoryError || error instanceof ThemeError) return true;
	const failure = error as NodeJS.ErrnoException | undefined;
	if (typeof failure?.code === 'string' && failure.code.startsWith('ERR_PARSE_ARGS')) return true;
	// The system refused a file or a socket (EACCES, EEXIST, ENOSPC…): its message names the call and the path.
	return typeof failure?.code === 'string' && typeof failure.syscall === 'string';
}

async function main(argv: string[]): Promise<number> {
	const [role, ...args] = argv;
	if (role === undefined || role === '--help' || role === '-h' || role === 'help') {
		console.log(HELP.main);
		return role === undefined ? 1 : 0;
	}
	const load = roles[role];
	if (!load) {
		process.stderr.write(`footfall: unknown role "${role}": expected tracker, peer, observer or demo (see footfall --help)\n`);
		return 1;
	}
	try {
		await (await load())(args);
		return 0;
	} catch (error) {
		if (isUserError(error)) {
			const hint = (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') ? ` (see footfall ${role} --help)` : '';
			process.stderr.write(`footfall ${role}: ${oneLine(error.message)}${hint}\n`);
			return 1;
		}
		process.stderr.write(`footfall ${role}: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
		return 2;
	}
}

// Exit explicitly: a role that failed half-way may still hold sockets and timers open.
process.exit(await main(process.argv.slice(2)));
