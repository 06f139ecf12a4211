import { parseArgs } from 'node:util';
import { formatAddress } from '../network/address.js';
import { systemClock } from '../runtime/clock.js';
import { Observer } from '../roles/observer/observer.js';
import { HELP } from './help.js';
import { ReadyFirst, printLine } from './json-lines.js';
import { MEMBER_OPTIONS, joinOn, memberKept, memberSettings } from './member-arguments.js';
import { isHeadless } from './options.js';
import { loadTheme } from '../console/theme.js';
import { runConsole } from '../console/run-console.js';
import { EventLog, ObserverData } from '../console/role-data.js';
import { onShutdown } from './shutdown.js';
import { coalesce } from './coalesce.js';
import { UsageError } from './usage-error.js';

/** Sensors whose rows the observer holds back (design.md §7), and why: shown with every occupancy line. */
function flaggedSensors(observer: Observer): Record<string, Record<string, number>> {
	const flagged: Record<string, Record<string, number>> = {};
	for (const [sensor, flag] of observer.core.replicas?.flags() ?? []) if (flag.since !== null) flagged[sensor] = { ...flag.held } as Record<string, number>;
	return flagged;
}

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
	const kept = await memberKept(values.data, 'observer', values['tracker-key']);
	const output = new ReadyFirst();
	const observer = await joinOn(settings.listen, (transport) =>
		Observer.start({
			...settings,
			transport,
			clock: systemClock,
			areas,
			identity: kept.identity,
			lastIncarnation: kept.lastIncarnation,
			trackerKey: kept.trackerKey,
			onTrustTracker: kept.trust,
			events: headless ? output.sink : log.sink,
		}),
	);
	await kept.saveIncarnation(observer.node.self.incarnation);
	if (theme) {
		await runConsole(new ObserverData(observer, log), theme);
		await observer.close();
		return;
	}
	output.ready({
		type: 'ready',
		role: 'observer',
		listen: formatAddress(observer.address),
		member: observer.node.self.id,
		epoch: observer.node.welcome.epoch,
		areas: Object.keys(observer.areas()),
	});
	const print = (): void =>
		printLine({ type: 'occupancy', areas: observer.areas(), datagrams: observer.datagrams(), members: observer.node.directory.size, traffic: observer.node.traffic.snapshot(), flagged: flaggedSensors(observer) });
	print();
	const scheduled = coalesce(print, OCCUPANCY_INTERVAL_MS);
	observer.onChange(scheduled.request);
	await onShutdown(
		async () => {
			scheduled.cancel();
			await observer.close();
		},
		(stop) => void observer.stopped.then(stop),
	);
	if (observer.node.revoked) throw new UsageError(`the operator revoked the account "${observer.node.self.id}"; this observer stopped`);
	if (observer.node.superseded) throw new UsageError(`another process logged in as "${observer.node.self.id}"; this one stopped`);
}
