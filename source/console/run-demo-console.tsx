import { render, useStdout } from 'ink';
import { useEffect, useMemo, useState } from 'react';
import { OffscreenChart } from './offscreen-chart.js';
import type { Demo } from '../simulation/demo.js';
import ConsoleApp, { layoutFor, type DemoCommand } from './components/ConsoleApp.js';
import { DemoData } from './demo-data.js';
import type { Theme } from './theme.js';

/** Redraws at most this often, however fast events arrive (100 commits/s cost ~39 % of a core, 10/s ~11 %). */
const REFRESH_MS = 100;
const RATE_STEP = 1.5;

/** Carries out a demo key; returns the line the footer shows about it. */
async function perform(demo: Demo, command: DemoCommand): Promise<string> {
	switch (command.type) {
		case 'pause':
			demo.paused = !demo.paused;
			return demo.paused ? 'traffic paused' : 'traffic resumed';
		case 'rate':
			demo.rate = Math.max(1, Math.round(command.by > 0 ? demo.rate * RATE_STEP : demo.rate / RATE_STEP));
			return `rate ${demo.rate} moves/s`;
		case 'inject':
			return `${command.direction} at ${command.sensor}: ${await demo.inject(command.sensor, command.direction)}`;
		case 'kill':
			return (await demo.kill(command.sensor)) ? `killed ${command.sensor}` : `${command.sensor} is already down`;
		case 'restart':
			return (await demo.restart(command.sensor)) ? `restarted ${command.sensor}` : `${command.sensor} is not down: k kills it first`;
		case 'partition':
			return `${command.sensor} ${demo.togglePartition(command.sensor) ? 'cut off from the rest' : 'joined back'}`;
		case 'loss':
			return `packet loss ${Math.round(demo.cycleLoss() * 100)} %`;
	}
}

function Live({ demo, theme }: { readonly demo: Demo; readonly theme: Theme }) {
	const [source] = useState(() => new DemoData(demo));
	const [data, setData] = useState(() => source.read());
	const [notice, setNotice] = useState('');
	const { stdout } = useStdout();
	const [size, setSize] = useState({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
	const chartSize = layoutFor(size.columns, size.rows).chart;
	// One off-screen blessed screen per chart size: creating one costs ~50 ms, drawing ~2 ms.
	const chart = useMemo(() => (chartSize ? new OffscreenChart(chartSize.width, chartSize.height, theme.monochrome ? 'white' : 'cyan') : null), [chartSize?.width, chartSize?.height, theme]);
	useEffect(() => () => chart?.destroy(), [chart]);
	useEffect(() => {
		const timer = setInterval(() => setData(source.read()), REFRESH_MS);
		const resize = () => setSize({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
		stdout.on('resize', resize);
		return () => {
			clearInterval(timer);
			stdout.off('resize', resize);
		};
	}, [source, stdout]);
	return (
		<ConsoleApp
			data={data}
			theme={theme}
			columns={size.columns}
			rows={size.rows}
			peerLog={(id) => demo.peerLogs.get(id) ?? []}
			notice={notice}
			chart={chart?.draw(data.saved.history)}
			onCommand={(command) => {
				void perform(demo, command).then(setNotice, (error: Error) => setNotice(`failed: ${error.message}`));
			}}
		/>
	);
}

/** Shows the demo's console on the terminal until the operator quits; the terminal is given back as it was. */
export async function runDemoConsole(demo: Demo, theme: Theme): Promise<void> {
	process.stdout.write('\u001B[?1049h\u001B[H'); // the alternate screen: the shell's scrollback is left untouched
	const instance = render(<Live demo={demo} theme={theme} />, { exitOnCtrlC: true, patchConsole: true });
	try {
		await instance.waitUntilExit();
	} finally {
		instance.cleanup();
		process.stdout.write('\u001B[?1049l');
	}
}
