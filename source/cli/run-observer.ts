import { parseArgs } from 'node:util';
import { formatAddress } from '../network/address.js';
import { systemClock } from '../runtime/clock.js';
import { Observer } from '../roles/observer.js';
import { generateIdentity } from '../security/keys.js';
import { HELP } from './help.js';
import { printLine } from './json-lines.js';
import { MEMBER_OPTIONS, joinOn, memberSettings } from './member-arguments.js';
import { isHeadless } from './options.js';
import { loadTheme } from '../console/theme.js';
import { runConsole } from '../console/run-console.js';
import { EventLog, ObserverData } from '../console/role-data.js';
import { onShutdown } from './shutdown.js';
import { coalesce } from './coalesce.js';
import { systemRandom } from '../runtime/random.js';

/** Occupancy lines at most this often: readable, and cheap however fast rows arrive. */
const OCCUPANCY_INTERVAL_MS = 100;

export async function runObserver(args: string[]): Promise<void> {
	const { values } = parseArgs({ args, options: { ...MEMBER_OPTIONS, areas: { type: 'string' } }, strict: true });
	if (values.help) {
		console.log(HELP.observer);
		return;
	}
	const settings = await memberSettings(values);
	const headless = isHeadless(values.headless);
	const theme = headless ? null : await loadTheme(values.theme);
	const log = new EventLog();
	const areas = values.areas === undefined ? null : values.areas.split(',').map((area) => area.trim()).filter(Boolean);
	const observer = await joinOn(settings.listen, (transport) =>
		Observer.start({ ...settings, transport, clock: systemClock, areas, identity: generateIdentity(systemRandom), lastIncarnation: 0, events: headless ? printLine : log.sink }),
	);
	if (theme) {
		await runConsole(new ObserverData(observer, log), theme);
		await observer.close();
		return;
	}
	printLine({
		type: 'ready',
		role: 'observer',
		listen: formatAddress(observer.node.address),
		member: observer.node.self.id,
		epoch: observer.node.welcome.epoch,
		areas: Object.keys(observer.areas()),
	});
	const print = (): void =>
		printLine({ type: 'occupancy', areas: observer.areas(), datagrams: observer.datagrams(), members: observer.node.directory.size, traffic: observer.node.traffic.snapshot() });
	print();
	const scheduled = coalesce(print, OCCUPANCY_INTERVAL_MS);
	observer.onChange(scheduled.request);
	await onShutdown(async () => {
		scheduled.cancel();
		await observer.close();
	});
}
