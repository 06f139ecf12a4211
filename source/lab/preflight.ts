import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, sep } from 'node:path';

/** Where the two system tools the lab drives live. */
export interface LabTools {
	readonly ip: string;
	readonly nft: string;
}

/**
 * The tools the lab needs, or why it cannot run here as the one line a user should read.
 * Checked before anything is created, so a refusal leaves nothing behind.
 */
export function preflight(): { readonly tools: LabTools } | { readonly refusal: string } {
	if (process.getuid?.() !== 0) {
		return { refusal: 'needs root: it creates a network namespace (ip netns) and drops packets in it with nft; run it as root' };
	}
	const ip = findTool('ip', ['-V'], /iproute2/);
	if (ip === null) return { refusal: 'needs the ip command (iproute2) to create its network namespace: apt-get install -y iproute2' };
	const nft = findTool('nft', ['--version'], /^nftables v/);
	if (nft === null) return { refusal: 'needs nft to drop packets in its network namespace: apt-get install -y nftables' };
	return { tools: { ip, nft } };
}

/**
 * The system's `command`: the sbin and bin directories first, then PATH without any
 * node_modules/.bin. Under `npm run`, PATH starts with node_modules/.bin, where a
 * package's `nft` (@vercel/nft, a file tracer) answers every nft command with exit code
 * 0 and does nothing — so each candidate must also say, when asked its version, that it
 * is the tool meant.
 */
function findTool(command: string, versionArgs: readonly string[], version: RegExp): string | null {
	const system = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
	const path = (process.env['PATH'] ?? '').split(delimiter).filter((directory) => directory !== '' && !directory.split(sep).includes('node_modules'));
	for (const directory of new Set([...system, ...path])) {
		const candidate = join(directory, command);
		try {
			accessSync(candidate, constants.X_OK);
			const said = execFileSync(candidate, [...versionArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5_000 });
			if (version.test(said)) return candidate;
		} catch {
			// not here, or not the tool meant; try the next directory
		}
	}
	return null;
}
