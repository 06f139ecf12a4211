import { DEFAULT_TIMINGS, type Timings } from '../network/config.js';
import type { Address } from '../network/address.js';
import { UdpTransport } from '../network/udp-transport.js';
import { addressOption, numberOption, readPasswordFile, requiredOption } from './options.js';

/** The flags every member role (peer, observer) takes, for `parseArgs`. */
export const MEMBER_OPTIONS = {
	tracker: { type: 'string' },
	user: { type: 'string' },
	'password-file': { type: 'string' },
	listen: { type: 'string' },
	'tracker-key': { type: 'string' },
	'join-timeout': { type: 'string' },
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
	readonly pinnedTrackerKey: string | undefined;
}

/** Reads and checks the member flags; a UsageError names the first one that is wrong. */
export async function memberSettings(values: Partial<Record<keyof typeof MEMBER_OPTIONS, string | boolean>>): Promise<MemberSettings> {
	const text = (flag: keyof typeof MEMBER_OPTIONS) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
	const tracker = addressOption('tracker', text('tracker'));
	const user = requiredOption('user', text('user'));
	const password = await readPasswordFile(requiredOption('password-file', text('password-file')));
	const listen = addressOption('listen', text('listen'), '127.0.0.1:0');
	const joinTimeoutMs = numberOption('join-timeout', text('join-timeout'), DEFAULT_TIMINGS.joinTimeoutMs / 1000, { min: 0.1 }) * 1000;
	return { tracker, user, password, listen, timings: { ...DEFAULT_TIMINGS, joinTimeoutMs }, pinnedTrackerKey: text('tracker-key') };
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
