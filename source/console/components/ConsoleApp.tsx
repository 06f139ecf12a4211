import { Box, Text, useApp, useInput } from 'ink';
import { useReducer, useRef, useState } from 'react';
import type { AreaRow, ConsoleData } from '../console-data.js';
import { initialState, reduce, type ConsoleAction, type ConsoleState, type Pane } from '../console-state.js';
import { paint, type Theme } from '../theme.js';
import HelpOverlay from './HelpOverlay.js';
import LogsPane from './LogsPane.js';
import OccupancyPane from './OccupancyPane.js';
import PeersPane, { visiblePeers } from './PeersPane.js';
import RecoveryPane from './RecoveryPane.js';
import SavedPane from './SavedPane.js';

/** What the demo's keys ask for; the shell carries them out. */
export type DemoCommand =
	| { readonly type: 'pause' }
	| { readonly type: 'rate'; readonly by: 1 | -1 }
	/** At the selected sensor (the demo), or at this peer itself (a peer's own console: sensor null). */
	| { readonly type: 'inject'; readonly sensor: string | null; readonly direction: 'enter' | 'exit' }
	| { readonly type: 'kill' | 'restart' | 'partition'; readonly sensor: string }
	| { readonly type: 'loss' }
	/** The tracker's console: revoke an account (asked twice: R, then R again). */
	| { readonly type: 'revoke'; readonly account: string };

export interface Props {
	readonly data: ConsoleData;
	readonly theme: Theme;
	readonly columns: number;
	readonly rows: number;
	/** The log lines of one peer, for the second log pane. */
	readonly peerLog?: (id: string) => readonly string[];
	/** A sensor's own view of its areas (Enter on it in Peers shows it in Occupancy; Esc goes back). */
	readonly viewOf?: ((id: string) => readonly AreaRow[] | null) | undefined;
	/** Present in the demo: the simulation keys. */
	readonly onCommand?: (command: DemoCommand) => void;
	/** A line about the last command, shown in the footer. */
	readonly notice?: string;
	/** The saved-datagrams chart, drawn off-screen by blessed-contrib at `chartSize`. */
	readonly chart?: readonly string[];
}

/** The pane heights for a terminal of `rows`: the chart gets room only on a tall one. */
export function layoutFor(columns: number, rows: number): { top: number; middle: number; bottom: number; left: number; right: number; chart: { width: number; height: number } | null } {
	const body = rows - 2;
	const middle = rows >= 40 ? 12 : 6;
	const top = Math.max(8, Math.floor((body - middle) * 0.62));
	const bottom = Math.max(4, body - top - middle);
	const left = Math.floor(columns * 0.55);
	return { top, middle, bottom, left, right: columns - left, chart: middle >= 10 ? { width: left - 4, height: middle - 5 } : null };
}

export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

/** The Peers pane's keys: the demo's act on the network, the tracker's R revokes, elsewhere only looking. */
function peersFooter(role: string): string {
	if (role === 'demo') return '↑↓ select · / filter · s sort · Enter its view · Esc back · k kill · r restart · p partition · e/x inject';
	if (role === 'tracker') return '↑↓ select · / filter · s sort · Enter its log · R revoke the account (R again to confirm)';
	if (role === 'peer') return '↑↓ select · / filter · s sort · Enter its log · e/x a person in or out through this gate';
	return '↑↓ select · / filter · s sort · Enter its log · Esc back';
}

const FOOTER: Record<Pane, string> = {
	occupancy: 'Tab next pane · ? help · q quit',
	peers: '',
	saved: 'Tab next pane · ? help · q quit',
	recovery: 'k kill and r restart a peer (in Peers) to see recoveries',
	logs: '↑↓ PgUp PgDn scroll back · f follow the tail · Enter in Peers picks the right pane',
};

/** One line, never wrapped: who this is on the left, the simulation's figures on the right if they fit. */
function headerLine({ header, simulation }: ConsoleData, columns: number, theme: Theme) {
	const left = ` footfall ${header.role} · ${header.mall} · ${header.identity} · epoch ${header.epoch} · tracker ${header.trackerUp ? 'up' : 'DOWN'} · up ${Math.floor(header.uptimeMs / 1000)} s`;
	const right = simulation
		? `${simulation.paused ? 'PAUSED' : `${simulation.rate}/s`} · ${simulation.population} inside · ${simulation.admitted} in · ${simulation.refused} refused (${simulation.refusedWithRoom} with room) · ${simulation.violations} violations `
		: '';
	// The simulation's figures (violations above all) matter more than the end of the identity line.
	const room = Math.max(20, columns - right.length - 1);
	const shown = left.length > room ? `${left.slice(0, room - 1)}…` : left;
	const gap = columns - shown.length - right.length;
	return (
		<>
			<Text bold color={paint(theme, header.trackerUp ? 'accent' : 'danger')}>
				{shown}
			</Text>
			{gap >= 1 ? <Text color={paint(theme, simulation && simulation.violations > 0 ? 'danger' : 'dim')}>{' '.repeat(gap) + right}</Text> : null}
		</>
	);
}

/** The operator console: header, occupancy, peers, saved datagrams, recovery, logs, footer. */
export default function ConsoleApp({ data, theme, columns, rows, peerLog, viewOf, onCommand, notice, chart }: Props) {
	// The state lives in a ref as well, so that keys arriving together (a paste, a script)
	// each see the state the previous one left, not the last render's.
	const current = useRef<ConsoleState>(initialState);
	const [, rerender] = useReducer((count: number) => count + 1, 0);
	const dispatch = (action: ConsoleAction): void => {
		current.current = reduce(current.current, action);
		rerender();
	};
	const state = current.current;
	const [followed, setFollowed] = useState<string | null>(null);
	/** The account R was pressed on once: a second R revokes it, any other key thinks better of it. */
	const revoking = useRef<string | null>(null);
	const [asking, setAsking] = useState<string | null>(null);
	const { exit } = useApp();
	const selectedSensor = (from: ConsoleState): string | undefined => {
		const chosen = visiblePeers(data.peers, from.filter, from.sort)[from.selected];
		return chosen?.role === 'sensor' ? chosen.id : undefined;
	};

	useInput((input, key) => {
		const state = current.current;
		const visible = visiblePeers(data.peers, state.filter, state.sort);
		const selectedPeer = visible[state.selected];
		const sensor = selectedPeer?.role === 'sensor' ? selectedPeer.id : undefined;
		if (state.filtering) {
			if (key.return || key.escape) dispatch({ type: 'end-filter', keep: key.return });
			else if (key.backspace || key.delete) dispatch({ type: 'filter-backspace' });
			else if (input && !key.ctrl && !key.meta) dispatch({ type: 'filter-key', text: input });
			return;
		}
		if (state.help) {
			if (key.escape || input === '?') dispatch({ type: 'close-help' });
			else if (input === 'q') exit();
			return;
		}
		const toRevoke = revoking.current;
		revoking.current = null;
		setAsking(null);
		if (input === 'R' && onCommand && data.header.role === 'tracker' && selectedPeer) {
			if (toRevoke === selectedPeer.id) return onCommand({ type: 'revoke', account: selectedPeer.id });
			revoking.current = selectedPeer.id;
			return setAsking(`revoke the account "${selectedPeer.id}" for good? R again to revoke, any other key keeps it`);
		}
		if (input === 'q') return exit();
		if (key.escape) return setFollowed(null);
		if (input === '?') return dispatch({ type: 'toggle-help' });
		if (key.tab) return dispatch({ type: key.shift ? 'focus-previous' : 'focus-next' });
		if (key.rightArrow) return dispatch({ type: 'focus-next' });
		if (key.leftArrow) return dispatch({ type: 'focus-previous' });
		if (input === '/') return dispatch({ type: 'start-filter' });
		if (input === 's') return dispatch({ type: 'cycle-sort' });
		if ((key.upArrow || key.downArrow || key.pageUp || key.pageDown) && state.focus === 'logs') {
			const step = key.pageUp || key.pageDown ? 10 : 1;
			return dispatch({ type: 'scroll-logs', by: key.upArrow || key.pageUp ? step : -step, lines: data.logs.length });
		}
		if (input === 'f' && state.focus === 'logs') return dispatch({ type: 'follow-logs' });
		if (key.upArrow || key.downArrow) return dispatch({ type: 'select', by: key.upArrow ? -1 : 1, rows: visible.length });
		if (key.return && selectedPeer) return setFollowed(selectedPeer.id);
		if (!onCommand) return;
		if (input === ' ') onCommand({ type: 'pause' });
		else if (input === '+' || input === '=') onCommand({ type: 'rate', by: 1 });
		else if (input === '-') onCommand({ type: 'rate', by: -1 });
		else if (input === 'l') onCommand({ type: 'loss' });
		else if (input === 'e' || input === 'x') onCommand({ type: 'inject', sensor: sensor ?? null, direction: input === 'e' ? 'enter' : 'exit' });
		else if (sensor && input === 'k') onCommand({ type: 'kill', sensor });
		else if (sensor && input === 'r') onCommand({ type: 'restart', sensor });
		else if (sensor && input === 'p') onCommand({ type: 'partition', sensor });
	});

	if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
		return <Text color={paint(theme, 'warn')}>{`The console needs at least ${MIN_COLUMNS}x${MIN_ROWS}; this terminal is ${columns}x${rows}. Enlarge it, or press q.`}</Text>;
	}
	const { top, middle, bottom, left, right } = layoutFor(columns, rows);
	const followedLog = followed ?? selectedSensor(state);
	const peerView = followed && viewOf ? viewOf(followed) : null;

	return (
		<Box flexDirection="column" width={columns} height={rows}>
			<Text wrap="truncate">{headerLine(data, columns, theme)}</Text>
			{state.help ? (
				<HelpOverlay theme={theme} demo={data.simulation !== null} tracker={data.header.role === 'tracker'} />
			) : (
				<>
					<Box>
						<Box width={left}>
							<OccupancyPane areas={peerView ?? data.areas} viewedBy={peerView ? followed : null} focused={state.focus === 'occupancy'} theme={theme} height={top} width={left} />
						</Box>
						<Box width={right}>
							<PeersPane peers={data.peers} focused={state.focus === 'peers'} theme={theme} height={top} filter={state.filter} filtering={state.filtering} sort={state.sort} selected={state.selected} width={right} />
						</Box>
					</Box>
					<Box>
						<Box width={left}>
							<SavedPane saved={data.saved} focused={state.focus === 'saved'} theme={theme} height={middle} width={left} chart={chart} />
						</Box>
						<Box width={right}>
							<RecoveryPane recoveries={data.recoveries} reclaims={data.reclaims} focused={state.focus === 'recovery'} theme={theme} height={middle} />
						</Box>
					</Box>
					<Box>
						<Box width={left}>
							<LogsPane title="Log — this process" lines={data.logs} focused={state.focus === 'logs'} theme={theme} height={bottom} width={left} scroll={state.logScroll} />
						</Box>
						<Box width={right}>
							<LogsPane title={`Log — ${followedLog ?? 'select a peer'}`} lines={followedLog && peerLog ? peerLog(followedLog) : []} focused={false} theme={theme} height={bottom} width={right} />
						</Box>
					</Box>
				</>
			)}
			<Text color={paint(theme, 'dim')} wrap="truncate">
				{asking ? ` ${asking}` : ` ${state.filtering ? 'type to filter · Enter keep · Esc clear' : state.focus === 'peers' ? peersFooter(data.header.role) : state.focus === 'recovery' && data.header.role !== 'demo' ? 'restarts, and permits taken back from members declared dead, as this member saw them' : FOOTER[state.focus]}${notice ? `  │  ${notice}` : ''}`}
			</Text>
		</Box>
	);
}
