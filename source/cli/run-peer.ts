import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEFAULT_TIMINGS } from '../network/config.js';
import { formatAddress } from '../network/address.js';
import { systemClock } from '../network/clock.js';
import { UdpTransport } from '../network/udp-transport.js';
import { SensorPeer } from '../roles/sensor-peer.js';
import { DataDirectory } from './data-directory.js';
import { HELP } from './help.js';
import { printLine } from './json-lines.js';
import { addressOption, numberOption, readPasswordFile, requiredOption } from './options.js';
import { onShutdown } from './shutdown.js';
import { parsePeerCommand } from './peer-commands.js';

export async function runPeer(args: string[]): Promise<void> {
	const { values } = parseArgs({
		args,
		options: {
			tracker: { type: 'string' },
			user: { type: 'string' },
			'password-file': { type: 'string' },
			sensor: { type: 'string' },
			listen: { type: 'string' },
			data: { type: 'string' },
			'tracker-key': { type: 'string' },
			'join-timeout': { type: 'string' },
			headless: { type: 'boolean' },
			help: { type: 'boolean' },
		},
		strict: true,
	});
	if (values.help) {
		console.log(HELP.peer);
		return;
	}
	const tracker = addressOption('tracker', values.tracker);
	const user = requiredOption('user', values.user);
	const password = await readPasswordFile(requiredOption('password-file', values['password-file']));
	const listen = addressOption('listen', values.listen, '127.0.0.1:0');
	const joinTimeoutMs = numberOption('join-timeout', values['join-timeout'], DEFAULT_TIMINGS.joinTimeoutMs / 1000, { min: 0.1 }) * 1000;
	const data = await DataDirectory.open(values.data, 'peer');
	const transport = await UdpTransport.bind(listen);
	let peer: SensorPeer;
	try {
		peer = await SensorPeer.start({
			transport,
			clock: systemClock,
			timings: { ...DEFAULT_TIMINGS, joinTimeoutMs },
			tracker,
			user,
			password,
			sensor: values.sensor ?? null,
			identity: data.identity,
			lastIncarnation: data.lastIncarnation,
			pinnedTrackerKey: values['tracker-key'],
			events: printLine,
		});
	} catch (error) {
		await transport.close();
		throw error;
	}
	await data.save('peer', peer.incarnation);
	printLine({
		type: 'ready',
		role: 'peer',
		listen: formatAddress(transport.address),
		sensor: peer.sensor,
		incarnation: peer.incarnation,
		member: peer.node.self.id,
		epoch: peer.node.welcome.epoch,
		areas: [...peer.counter.areas],
	});
	await onShutdown(
		() => peer.close(),
		(stop) => {
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
							printLine({ ...peer.status(), traffic: peer.node.link.traffic.snapshot() });
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
}
