import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

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
	const ip = findExecutable('ip');
	if (ip === null) return { refusal: 'needs the ip command to create its network namespace: apt-get install -y iproute2' };
	const nft = findExecutable('nft');
	if (nft === null) return { refusal: 'needs nft to drop packets in its network namespace: apt-get install -y nftables' };
	return { tools: { ip, nft } };
}

/**
 * The full path of `command` in PATH, or in the sbin directories where ip and nft live
 * (a non-login root shell or sudo may leave them out of PATH).
 */
function findExecutable(command: string): string | null {
	const directories = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
	for (const directory of directories) {
		if (directory === '') continue;
		const candidate = join(directory, command);
		try {
			accessSync(candidate, constants.X_OK);
			return candidate;
		} catch {
			// not here; try the next directory
		}
	}
	return null;
}
