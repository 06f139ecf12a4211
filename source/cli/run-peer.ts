import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { formatAddress } from '../network/address.js';
import { systemClock } from '../runtime/clock.js';
import { SensorPeer } from '../roles/sensor/sensor-peer.js';
import { PeerJournal } from '../recovery/peer-journal.js';
import { HELP } from './help.js';
import { ReadyFirst, printLine } from './json-lines.js';
import { MEMBER_OPTIONS, joinOn, memberKept, memberSettings } from './member-arguments.js';
import { isHeadless } from './options.js';
import { loadTheme } from '../console/theme.js';
import { runConsole } from '../console/run-console.js';
import { EventLog, PeerData } from '../console/role-data.js';
import { onShutdown } from './shutdown.js';
import { UsageError } from './usage-error.js';
import { parsePeerCommand } from './peer-commands.js';

export async function runPeer(args: string[]): Promise<void> {
	const { values } = parseArgs({ args, options: { ...MEMBER_OPTIONS, sensor: { type: 'string' } }, strict: true });
	if (values.help) {
		console.log(HELP.peer);
		return;
	}
	const settings = await memberSettings(values);
	const headless = isHeadless(values.headless);
	const theme = headless ? null : await loadTheme(values.theme);
	const log = new EventLog();
	const kept = await memberKept(values.data, 'peer', values['tracker-key']);
	const output = new ReadyFirst();
	const events = headless ? output.sink : log.sink;
	const recovery = values.data === undefined ? null : await PeerJournal.open(values.data, { onSnapshotFailed: (error) => events({ type: 'error', message: `a log snapshot failed (${error.message}); the log goes on without it` }) });
	const peer = await joinOn(settings.listen, (transport) =>
		SensorPeer.start({
			...settings,
			journal: recovery?.journal ?? null,
			restored: recovery?.restored ?? null,
			transport,
			clock: systemClock,
			sensor: values.sensor ?? null,
			identity: kept.identity,
			lastIncarnation: kept.lastIncarnation,
			trackerKey: kept.trackerKey,
			onTrustTracker: kept.trust,
			events,
		}),
	).catch(async (error: unknown) => {
		await recovery?.journal.close().catch(() => {});
		throw error;
	});
	await kept.saveIncarnation(peer.incarnation);
	if (theme) {
		await runConsole(new PeerData(peer, log), theme);
		await peer.close();
		return;
	}
	output.ready({
		type: 'ready',
		role: 'peer',
		listen: formatAddress(peer.address),
		sensor: peer.sensor,
		incarnation: peer.incarnation,
		member: peer.node.self.id,
		epoch: peer.node.welcome.epoch,
		areas: [...peer.counter.areas],
	});
	await onShutdown(
		() => peer.close(),
		(stop) => {
			void peer.stopped.then(stop);
			const lines = createInterface({ input: process.stdin, terminal: false });
			// Answers go out in the order commands came in, even when one waits for a loan.
			let queue = Promise.resolve();
			lines.on('line', (line) => {
				queue = queue.then(async () => {
					const command = parsePeerCommand(line);
					switch (command.kind) {
						case 'empty':
							return;
						case 'move':
							printLine(await peer.move(command.direction, command.person));
							return;
						case 'status':
							printLine({ ...peer.status(), traffic: peer.node.traffic.snapshot() });
							return;
						case 'quit':
							stop();
							return;
						case 'unknown':
							printLine({ type: 'error', message: `unknown command "${command.text}": try enter, exit, enter staff, exit staff, status or quit` });
							return;
					}
				});
			});
		},
	);
	if (peer.node.revoked) throw new UsageError(`the operator revoked the account "${peer.node.self.id}"; this peer stopped`);
	if (peer.node.superseded) throw new UsageError(`another process logged in as "${peer.node.self.id}"; this one stopped`);
}
