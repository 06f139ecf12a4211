import { parseArgs } from 'node:util';
import { DEFAULT_TIMINGS } from '../network/config.js';
import { formatAddress } from '../network/address.js';
import { systemClock } from '../network/clock.js';
import { UdpTransport } from '../network/udp-transport.js';
import { Observer } from '../roles/observer.js';
import { generateIdentity } from '../security/keys.js';
import { HELP } from './help.js';
import { printLine } from './json-lines.js';
import { addressOption, numberOption, readPasswordFile, requiredOption } from './options.js';
import { onShutdown } from './shutdown.js';
import { coalesce } from './coalesce.js';

/** Occupancy lines at most this often: readable, and cheap however fast rows arrive. */
const OCCUPANCY_INTERVAL_MS = 100;

export async function runObserver(args: string[]): Promise<void> {
	const { values } = parseArgs({
		args,
		options: {
			tracker: { type: 'string' },
			user: { type: 'string' },
			'password-file': { type: 'string' },
			areas: { type: 'string' },
			listen: { type: 'string' },
			'tracker-key': { type: 'string' },
			'join-timeout': { type: 'string' },
			headless: { type: 'boolean' },
			help: { type: 'boolean' },
		},
		strict: true,
	});
	if (values.help) {
		console.log(HELP.observer);
		return;
	}
	const tracker = addressOption('tracker', values.tracker);
	const user = requiredOption('user', values.user);
	const password = await readPasswordFile(requiredOption('password-file', values['password-file']));
	const listen = addressOption('listen', values.listen, '127.0.0.1:0');
	const joinTimeoutMs = numberOption('join-timeout', values['join-timeout'], DEFAULT_TIMINGS.joinTimeoutMs / 1000, { min: 0.1 }) * 1000;
	const areas = values.areas === undefined ? null : values.areas.split(',').map((area) => area.trim()).filter(Boolean);
	const transport = await UdpTransport.bind(listen);
	let observer: Observer;
	try {
		observer = await Observer.start({
			transport,
			clock: systemClock,
			timings: { ...DEFAULT_TIMINGS, joinTimeoutMs },
			tracker,
			user,
			password,
			areas,
			identity: generateIdentity(),
			lastIncarnation: 0,
			pinnedTrackerKey: values['tracker-key'],
			events: printLine,
		});
	} catch (error) {
		await transport.close();
		throw error;
	}
	printLine({
		type: 'ready',
		role: 'observer',
		listen: formatAddress(transport.address),
		member: observer.node.self.id,
		epoch: observer.node.welcome.epoch,
		areas: Object.keys(observer.areas()),
	});
	const print = (): void => printLine({ type: 'occupancy', areas: observer.areas(), datagrams: observer.datagrams(), traffic: observer.node.link.traffic.snapshot() });
	print();
	const scheduled = coalesce(print, OCCUPANCY_INTERVAL_MS);
	observer.onChange(scheduled.request);
	await onShutdown(async () => {
		scheduled.cancel();
		await observer.close();
	});
}
