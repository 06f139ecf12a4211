import { DEFAULT_TIMINGS, type Timings } from '../network/config.js';
import type { Address } from '../network/address.js';
import { UdpTransport } from '../network/udp-transport.js';
import { DataDirectory } from '../recovery/data-directory.js';
import { systemRandom } from '../runtime/random.js';
import type { Identity } from '../security/keys.js';
import { addressOption, numberOption, readPasswordFile, requiredOption } from './options.js';
import { UsageError } from './usage-error.js';

/** The flags every member role (peer, observer) takes, for `parseArgs`. */
export const MEMBER_OPTIONS = {
	tracker: { type: 'string' },
	user: { type: 'string' },
	'password-file': { type: 'string' },
	listen: { type: 'string' },
	'tracker-key': { type: 'string' },
	'join-timeout': { type: 'string' },
	data: { type: 'string' },
	headless: { type: 'boolean' },
	theme: { type: 'string' },
	help: { type: 'boolean' },
} as const;

export interface MemberSettings {
	readonly tracker: Address;
	readonly user: string;
	readonly password: string;
	readonly listen: Address;
	readonly timings: Timings;
}

/** Reads and checks the member flags; a UsageError names the first one that is wrong. */
export async function memberSettings(values: Partial<Record<keyof typeof MEMBER_OPTIONS, string | boolean>>): Promise<MemberSettings> {
	const text = (flag: keyof typeof MEMBER_OPTIONS) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
	const tracker = addressOption('tracker', text('tracker'));
	const user = requiredOption('user', text('user'));
	const password = await readPasswordFile(requiredOption('password-file', text('password-file')));
	const listen = addressOption('listen', text('listen'), '127.0.0.1:0');
	const joinTimeoutMs = numberOption('join-timeout', text('join-timeout'), DEFAULT_TIMINGS.joinTimeoutMs / 1000, { min: 0.1 }) * 1000;
	return { tracker, user, password, listen, timings: { ...DEFAULT_TIMINGS, joinTimeoutMs } };
}

/** What a member keeps between runs, and how it learns the tracker's key. */
export interface MemberKept {
	readonly identity: Identity;
	readonly lastIncarnation: number;
	/** The key to trust: --tracker-key, else the one kept from the first login, else null (trust the first reached). */
	readonly trackerKey: string | null;
	/** Keeps the tracker's key at the first login (trust on first use, as ssh's known_hosts). */
	readonly trust: (key: string) => void;
	readonly saveIncarnation: (incarnation: number) => Promise<void>;
}

const KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Opens the member's data directory (if any). A key given with --tracker-key wins, and
 * replaces the one kept: that is how the operator says the tracker's key really changed.
 */
export async function memberKept(dataPath: string | undefined, name: string, pinned: string | undefined): Promise<MemberKept> {
	if (pinned !== undefined && !KEY_PATTERN.test(pinned)) throw new UsageError(`--tracker-key ${pinned}: expected the tracker's key as its ready line prints it (44 characters of base64)`);
	const data = await DataDirectory.open(dataPath, name, systemRandom);
	if (pinned !== undefined && pinned !== data.kept.trackerKey) await data.save({ trackerKey: pinned });
	return {
		identity: data.identity,
		lastIncarnation: data.kept.incarnation,
		trackerKey: pinned ?? data.kept.trackerKey,
		trust: (key) => void data.save({ trackerKey: key }).catch(() => {}),
		saveIncarnation: (incarnation) => data.save({ incarnation }),
	};
}

/** Binds the member's socket and runs `join` on it; the socket is closed again if joining fails. */
export async function joinOn<T>(listen: Address, join: (transport: UdpTransport) => Promise<T>): Promise<T> {
	const transport = await UdpTransport.bind(listen);
	try {
		return await join(transport);
	} catch (error) {
		await transport.close();
		throw error;
	}
}
