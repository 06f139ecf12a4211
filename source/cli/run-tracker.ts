import { parseArgs } from 'node:util';
import { loadMall } from '../model/load-mall.js';
import { formatAddress } from '../network/address.js';
import { systemClock } from '../runtime/clock.js';
import { systemRandom } from '../runtime/random.js';
import { UdpTransport } from '../network/udp-transport.js';
import { Tracker } from '../roles/tracker/tracker.js';
import { createInterface } from 'node:readline';
import { DataDirectory } from '../recovery/data-directory.js';
import { HELP } from './help.js';
import { printLine } from './json-lines.js';
import { addressOption, isHeadless, requiredOption } from './options.js';
import { onShutdown } from './shutdown.js';
import { loadTheme } from '../console/theme.js';
import { runConsole } from '../console/run-console.js';
import { EventLog, TrackerData } from '../console/role-data.js';

export async function runTracker(args: string[]): Promise<void> {
	const { values } = parseArgs({
		args,
		options: {
			fixture: { type: 'string' },
			listen: { type: 'string' },
			data: { type: 'string' },
			headless: { type: 'boolean' },
			theme: { type: 'string' },
			help: { type: 'boolean' },
		},
		strict: true,
	});
	if (values.help) {
		console.log(HELP.tracker);
		return;
	}
	const mall = await loadMall(requiredOption('fixture', values.fixture));
	const listen = addressOption('listen', values.listen, '127.0.0.1:7700');
	const data = await DataDirectory.open(values.data, 'tracker', systemRandom);
	const headless = isHeadless(values.headless);
	const theme = headless ? null : await loadTheme(values.theme);
	const previousEpochs = data.kept.epochs.length;
	const knownMembers = data.kept.members.size;
	const log = new EventLog();
	const transport = await UdpTransport.bind(listen);
	// Everything the tracker must not forget (incarnations, device keys, granters,
	// revocations) is written to `data` before it answers anything that depends on it.
	const tracker = new Tracker({ mall, transport, clock: systemClock, events: headless ? printLine : log.sink, data, random: systemRandom });
	await data.save({ epochs: [...data.kept.epochs, tracker.epoch].slice(-100) });
	(headless ? printLine : log.sink)({
		type: 'ready',
		role: 'tracker',
		listen: formatAddress(transport.address),
		epoch: tracker.epoch,
		key: tracker.identity.agreePublic.toString('base64'),
		mall: mall.name,
		previousEpochs,
		knownMembers,
		sensors: mall.sensors.size,
		accounts: mall.accounts.size,
	});
	if (theme) {
		await runConsole(new TrackerData(tracker, log, mall.name), theme);
		await tracker.close();
		return;
	}
	await onShutdown(
		() => tracker.close(),
		() => {
			// The operator's commands, one per line: `revoke USER` takes an account out for good.
			createInterface({ input: process.stdin, terminal: false }).on('line', (line) => {
				const [verb, user, ...rest] = line.trim().split(/\s+/).filter(Boolean);
				if (verb === undefined) return;
				if (verb === 'revoke' && user !== undefined && rest.length === 0) printLine({ type: 'revoke', user, ...tracker.revoke(user) });
				else printLine({ type: 'error', message: `unknown command "${line.trim()}": try revoke USER` });
			});
		},
	);
}
