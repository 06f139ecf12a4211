import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadMall, loadPasswords } from '../model/load-mall.js';
import { formatAddress } from '../network/address.js';
import { UdpTransport } from '../network/udp-transport.js';
import { Demo } from '../simulation/demo.js';
import { HELP } from './help.js';
import { printLine } from './json-lines.js';
import { isHeadless, numberOption } from './options.js';
import { loadTheme } from '../console/theme.js';
import { runConsole } from '../console/run-console.js';
import { DemoData } from '../console/demo-data.js';
import { onShutdown } from './shutdown.js';

const DEFAULT_FIXTURE = fileURLToPath(new URL('../../../fixtures/malls/demo.json', import.meta.url));
/** Enough to fill the demo mall's popular stores and a floor within seconds. */
export const DEFAULT_RATE = 300;

export async function runDemo(args: string[]): Promise<void> {
	const { values } = parseArgs({
		args,
		options: {
			fixture: { type: 'string' },
			duration: { type: 'string' },
			rate: { type: 'string' },
			seed: { type: 'string' },
			headless: { type: 'boolean' },
			theme: { type: 'string' },
			help: { type: 'boolean' },
		},
		strict: true,
	});
	if (values.help) {
		console.log(HELP.demo);
		return;
	}
	const fixture = values.fixture ?? DEFAULT_FIXTURE;
	const mall = await loadMall(fixture);
	const passwords = await loadPasswords(fixture.replace(/\.json$/, '.passwords.json'));
	const durationS = numberOption('duration', values.duration, Infinity, { min: 0.1 });
	const headless = isHeadless(values.headless);
	const demo = new Demo({
		mall,
		passwords,
		rate: numberOption('rate', values.rate, DEFAULT_RATE, { min: 0 }),
		durationMs: durationS * 1000,
		seed: numberOption('seed', values.seed, 1, { integer: true }),
		bind: () => UdpTransport.bind({ host: '127.0.0.1', port: 0 }),
		// On a terminal the console shows the network's events in its log pane: none reach the shell.
		events: headless ? printLine : () => {},
	});
	const theme = headless ? null : await loadTheme(values.theme);
	const starting = performance.now();
	if (!headless) process.stderr.write(`starting ${mall.sensors.size} sensors of ${mall.name} on 127.0.0.1…\n`);
	await demo.start();
	if (theme) {
		const summary = demo.run();
		await runConsole(new DemoData(demo), theme);
		demo.stop();
		printLine(await summary);
		await demo.close();
		return;
	}
	printLine({ type: 'ready', role: 'demo', listen: formatAddress(demo.tracker.address), mall: mall.name, peers: demo.peers.size, epoch: demo.tracker.epoch, startupMs: Math.round(performance.now() - starting) });
	const progress = setInterval(() => {
		printLine({ type: 'progress', population: demo.crowd.population, tried: demo.tried, admitted: demo.admitted, refused: demo.refused, violations: demo.crowd.violations, datagrams: demo.datagrams() });
	}, 1000);
	// Traffic runs for --duration, or until Ctrl-C; either way the demo drains, prints
	// its summary as the last line, and leaves the network cleanly.
	const summary = demo.run();
	await onShutdown(
		async () => {
			demo.stop();
			printLine(await summary);
			clearInterval(progress);
			await demo.close();
		},
		(stop) => void summary.then(stop),
	);
}
