import { render, useStdout } from 'ink';
import { useEffect, useMemo, useState } from 'react';
import ConsoleApp, { layoutFor, type DemoCommand } from './components/ConsoleApp.js';
import type { AreaRow, ConsoleData } from './console-data.js';
import { OffscreenChart } from './offscreen-chart.js';
import type { Theme } from './theme.js';

/** Redraws at most this often, however fast events arrive (100 commits/s cost ~39 % of a core, 10/s ~11 %). */
const REFRESH_MS = 100;

/** What a role gives the console: its data, read on every refresh, and what its keys may do. */
export interface ConsoleSource {
	read(): ConsoleData;
	/** The log lines of one member, for the second log pane. */
	peerLog?(id: string): readonly string[];
	/** One sensor's own view of its areas, with its permits (the demo, where every peer is at hand). */
	viewOf?(id: string): readonly AreaRow[] | null;
	/** The demo's simulation keys; returns the footer's line about what was done. */
	perform?(command: DemoCommand): Promise<string>;
}

function Live({ source, theme }: { readonly source: ConsoleSource; readonly theme: Theme }) {
	const [data, setData] = useState(() => source.read());
	const [notice, setNotice] = useState('');
	const { stdout } = useStdout();
	const [size, setSize] = useState({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
	const chartSize = layoutFor(size.columns, size.rows).chart;
	// One off-screen blessed screen per chart size: creating one costs ~50 ms, drawing ~2 ms.
	const chart = useMemo(() => (chartSize ? new OffscreenChart(chartSize.width, chartSize.height, theme.monochrome ? 'white' : 'cyan') : null), [chartSize?.width, chartSize?.height, theme]);
	useEffect(() => () => chart?.destroy(), [chart]);
	// The history is a new array only once a second (rate-history.ts): draw the chart then, not on every refresh.
	const chartRows = useMemo(() => chart?.draw(data.saved.history), [chart, data.saved.history]);
	useEffect(() => {
		const timer = setInterval(() => setData(source.read()), REFRESH_MS);
		const resize = () => setSize({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
		stdout.on('resize', resize);
		return () => {
			clearInterval(timer);
			stdout.off('resize', resize);
		};
	}, [source, stdout]);
	const perform = source.perform?.bind(source);
	return (
		<ConsoleApp
			data={data}
			theme={theme}
			columns={size.columns}
			rows={size.rows}
			peerLog={source.peerLog ? (id) => source.peerLog!(id) : undefined}
			viewOf={source.viewOf ? (id) => source.viewOf!(id) : undefined}
			notice={notice}
			chart={chartRows}
			onCommand={perform ? (command) => void perform(command).then(setNotice, (error: Error) => setNotice(`failed: ${error.message}`)) : undefined}
		/>
	);
}

/** Shows a role's console on the terminal until the operator quits; the terminal is given back as it was. */
export async function runConsole(source: ConsoleSource, theme: Theme): Promise<void> {
	process.stdout.write('\u001B[?1049h\u001B[H'); // the alternate screen: the shell's scrollback is left untouched
	const instance = render(<Live source={source} theme={theme} />, { exitOnCtrlC: true, patchConsole: true });
	try {
		await instance.waitUntilExit();
	} finally {
		instance.cleanup();
		process.stdout.write('\u001B[?1049l');
	}
}
