import test from 'ava';
import { render } from 'ink-testing-library';
import type { ConsoleData } from '../source/console/console-data.js';
import { initialState, reduce } from '../source/console/console-state.js';
import ConsoleApp from '../source/console/components/ConsoleApp.js';
import OccupancyPane, { occupancySparkline } from '../source/console/components/OccupancyPane.js';
import PeersPane from '../source/console/components/PeersPane.js';
import SavedPane, { sparkline } from '../source/console/components/SavedPane.js';
import RecoveryPane from '../source/console/components/RecoveryPane.js';
import LogsPane from '../source/console/components/LogsPane.js';
import { loadTheme, ThemeError } from '../source/console/theme.js';

const dark = await loadTheme('dark', {});
const mono = await loadTheme('dark', { NO_COLOR: '1' });

const areas: ConsoleData['areas'] = [
	{ id: 'mall', kind: 'mall', name: 'Riverside', parent: null, capacity: 100, occupancy: 50, staff: 3, refused: 0 },
	{ id: 'ground', kind: 'floor', name: 'Ground floor', parent: 'mall', capacity: 50, occupancy: 45, staff: 2, refused: 7 },
	{ id: 'bakery', kind: 'store', name: 'Bakery', parent: 'ground', capacity: 8, occupancy: 8, staff: 1, refused: 12 },
];
const peers: ConsoleData['peers'] = [
	{ id: 'north-entrance', role: 'sensor', area: 'mall,ground', address: '127.0.0.1:4000', status: 'alive', incarnation: 1, lastHeardMs: 120, datagramsIn: 10, datagramsOut: 20 },
	{ id: 'bakery-door', role: 'sensor', area: 'bakery', address: '127.0.0.1:4001', status: 'dead', incarnation: 3, lastHeardMs: 6100, datagramsIn: 5, datagramsOut: 9 },
	{ id: 'ops', role: 'observer', area: 'all areas', address: '127.0.0.1:4002', status: 'alive', incarnation: 1, lastHeardMs: null, datagramsIn: 0, datagramsOut: 0 },
];
const data: ConsoleData = {
	header: { role: 'demo', identity: 'ops', mall: 'Riverside', epoch: 7, trackerUp: true, uptimeMs: 12_000 },
	areas,
	peers,
	saved: { sent: 100, flood: 800, saved: 700, percent: 87.5, history: [1, 5, 10] },
	recoveries: [{ peer: 'bakery-door', incarnation: 3, replayed: 42, ms: 130, fetched: 1, tornTail: true }],
	reclaims: [{ by: 'fashion-door', from: 'fashion-side-door', area: 'fashion', permits: 12 }],
	logs: ['first line', 'second line'],
	simulation: { paused: false, rate: 300, population: 50, violations: 0, admitted: 70, refused: 19, refusedWithRoom: 3 },
};

test('occupancy shows each area against capacity, staff beside visitors, and marks the full and nearly full', (t) => {
	const { lastFrame } = render(<OccupancyPane areas={areas} focused theme={dark} height={10} width={90} />);
	const frame = lastFrame() ?? '';
	t.regex(frame, /Occupancy — 1 full/);
	t.regex(frame, /Riverside .* 50\/100 .*staff +3/);
	t.regex(frame, /Ground floor .* 45\/50 .* refused +7 NEAR/);
	t.regex(frame, /Bakery .* 8\/8 .* refused +12 FULL/);
	t.true(frame.indexOf('Ground floor') < frame.indexOf('Bakery'), 'stores under their floor');
});

test('each floor has a sparkline of its occupancy against capacity when the pane has room for it', (t) => {
	const withHistory = areas.map((area) => (area.kind === 'store' ? area : { ...area, history: area.id === 'ground' ? [0, 25, 50, 50] : [10, 20] }));
	const tall = render(<OccupancyPane areas={withHistory} focused theme={dark} height={12} width={90} />).lastFrame() ?? '';
	t.regex(tall, /Ground floor[^\n]*\n[^\n]*last 4 s +▁▅██/, 'under the floor, scaled to its capacity of 50');
	const short = render(<OccupancyPane areas={withHistory} focused theme={dark} height={5} width={90} />).lastFrame() ?? '';
	t.notRegex(short, /last \d+ s/, 'areas before trends when space is short');
	t.is(occupancySparkline([0, 50, 100], 100, 10), '▁▅█');
});

test('a monochrome theme tells levels apart without colour', (t) => {
	const frame = render(<OccupancyPane areas={areas} focused={false} theme={mono} height={10} width={90} />).lastFrame() ?? '';
	t.false(/\u001B\[3\dm/.test(frame), 'no colour codes');
	t.true(frame.includes('▒'), 'the full store has its own fill');
});

test('peers lists every identity with status and incarnation, and the filter narrows it', (t) => {
	const all = render(<PeersPane peers={peers} focused theme={dark} height={10} width={110} filter="" filtering={false} sort="id" selected={0} />).lastFrame() ?? '';
	t.regex(all, /Peers — 2\/3 alive/);
	t.regex(all, /bakery-door +sensor +bakery +127\.0\.0\.1:4001 +dead +3 6\.1s/);
	t.regex(all, /ops +observer +all areas/);
	const filtered = render(<PeersPane peers={peers} focused theme={dark} height={10} width={110} filter="dead" filtering={false} sort="id" selected={0} />).lastFrame() ?? '';
	t.true(filtered.includes('bakery-door'));
	t.false(filtered.includes('north-entrance'));
});

test('a sensor whose rows its role could not have written is FLAGGED in Peers, and / finds it', (t) => {
	const liar = peers.map((peer) => (peer.id === 'north-entrance' ? { ...peer, flagged: 'outflow-beyond-permits' } : peer));
	const frame = render(<PeersPane peers={liar} focused theme={dark} height={10} width={110} filter="" filtering={false} sort="id" selected={0} />).lastFrame() ?? '';
	t.regex(frame, /Peers — 2\/3 alive, 1 FLAGGED/);
	t.regex(frame, /north-entrance +sensor +mall,ground +127\.0\.0\.1:4000 +FLAGGED/);
	const found = render(<PeersPane peers={liar} focused theme={dark} height={10} width={110} filter="flagged" filtering={false} sort="id" selected={0} />).lastFrame() ?? '';
	t.true(found.includes('north-entrance'));
	t.false(found.includes('bakery-door'));
});

test('saved shows sent against flooding and the rate as a sparkline', (t) => {
	const frame = render(<SavedPane saved={data.saved} focused={false} theme={dark} height={6} width={40} />).lastFrame() ?? '';
	t.regex(frame, /sent 100 · flooding would send 800/);
	t.regex(frame, /saved 700 \(87\.5 %\)/);
	t.is(sparkline([0, 5, 10], 10), '▁▄█');
});

test('recovery lists each restart with records replayed, time and rows fetched', (t) => {
	const frame = render(<RecoveryPane recoveries={data.recoveries} reclaims={[]} focused={false} theme={dark} height={6} />).lastFrame() ?? '';
	t.regex(frame, /bakery-door +3 +42 +130 +1 torn tail cut/);
	t.notRegex(frame, /reclaimed/);
});

test('recovery lists the permits taken back from peers declared dead, and their total in the title', (t) => {
	const frame = render(<RecoveryPane recoveries={data.recoveries} reclaims={data.reclaims} focused={false} theme={dark} height={9} />).lastFrame() ?? '';
	t.regex(frame, /Recovery — 1 restarts · 12 permits reclaimed/);
	t.regex(frame, /bakery-door +3 +42/, 'restarts still shown');
	t.regex(frame, /fashion-side-door +fashion-door +12 of fashion/);
});

test('the focus moves with Tab and Shift-Tab, and wraps', (t) => {
	const next = reduce(initialState, { type: 'focus-next' });
	t.is(next.focus, 'peers');
	t.is(reduce(initialState, { type: 'focus-previous' }).focus, 'logs');
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Waits for the next frames until one matches: input is handled asynchronously. */
async function frameMatching(app: { lastFrame: () => string | undefined }, pattern: RegExp, ms = 2000): Promise<string> {
	const deadline = Date.now() + ms;
	for (;;) {
		const frame = app.lastFrame() ?? '';
		if (pattern.test(frame) || Date.now() > deadline) return frame;
		await tick();
	}
}

test("the demo's header says how many were refused while there was room", (t) => {
	const app = render(<ConsoleApp data={data} theme={dark} columns={160} rows={45} onCommand={() => {}} />);
	t.regex(app.lastFrame() ?? '', /70 in · 19 refused \(3 with room\) · 0 violations/);
	app.unmount();
});

test('? opens the help listing every key, and Esc closes it', async (t) => {
	const app = render(<ConsoleApp data={data} theme={dark} columns={140} rows={45} onCommand={() => {}} />);
	t.regex(app.lastFrame() ?? '', /Occupancy/);
	app.stdin.write('?');
	await tick();
	const help = app.lastFrame() ?? '';
	for (const key of ['Tab / Shift-Tab', 'space', 'k ', 'kill the selected peer', 'packet loss 0 / 10 / 30 %', 'q, Ctrl-C']) t.true(help.includes(key), key);
	app.stdin.write('\u001B');
	t.regex(await frameMatching(app, /Occupancy/), /Occupancy/);
	app.unmount();
});

test('the demo keys act on the selected sensor', async (t) => {
	const commands: unknown[] = [];
	const app = render(<ConsoleApp data={data} theme={dark} columns={140} rows={45} onCommand={(command) => commands.push(command)} />);
	app.stdin.write('\t'); // to Peers: sorted by id, bakery-door is first
	await tick();
	app.stdin.write('k');
	await tick();
	app.stdin.write(' ');
	await tick();
	t.deepEqual(commands, [{ type: 'kill', sensor: 'bakery-door' }, { type: 'pause' }]);
	app.unmount();
});

test('on the tracker console, R asks, R again revokes the selected account; any other key keeps it', async (t) => {
	const commands: unknown[] = [];
	const tracker: ConsoleData = { ...data, header: { ...data.header, role: 'tracker' }, simulation: null };
	const app = render(<ConsoleApp data={tracker} theme={dark} columns={140} rows={45} onCommand={(command) => commands.push(command)} />);
	app.stdin.write('\t'); // to Peers: bakery-door is first
	const footer = await frameMatching(app, /R revoke the account/);
	t.regex(footer, /R revoke the account/, "the tracker's Peers pane says what R does");
	t.notRegex(footer, /k kill/, "and not the demo's keys, which do nothing here");
	app.stdin.write('R');
	t.regex(await frameMatching(app, /revoke the account "bakery-door" for good\? R again/), /R again to revoke/);
	app.stdin.write('s'); // thought better of it
	t.notRegex(await frameMatching(app, /sort status/), /R again to revoke/);
	t.deepEqual(commands, []);
	app.stdin.write('R');
	await tick();
	app.stdin.write('R');
	await tick();
	t.is(commands.length, 1);
	t.like(commands[0], { type: 'revoke' });
	app.stdin.write('?');
	t.regex(await frameMatching(app, /revoke the selected account/), /R, R/);
	app.unmount();
	// On the demo's console, R does nothing of the sort.
	const demo = render(<ConsoleApp data={data} theme={dark} columns={140} rows={45} onCommand={(command) => commands.push(command)} />);
	demo.stdin.write('R');
	await tick();
	demo.stdin.write('R');
	await tick();
	t.is(commands.length, 1);
	demo.unmount();
});

test('below 80x24 the console says so instead of drawing', (t) => {
	const frame = render(<ConsoleApp data={data} theme={dark} columns={70} rows={20} />).lastFrame() ?? '';
	t.regex(frame, /needs at least 80x24; this terminal is 70x20/);
});

test('an unknown theme is a clear error', async (t) => {
	await t.throwsAsync(loadTheme('neon', {}), { instanceOf: ThemeError, message: /theme "neon": no such theme/ });
});

test('logs follow the tail, and scrolled back show older lines and say so', (t) => {
	const lines = Array.from({ length: 30 }, (_, index) => `line ${index + 1}`);
	const following = render(<LogsPane title="Log" lines={lines} focused theme={dark} height={6} width={60} />).lastFrame() ?? '';
	t.regex(following, /Log — following/);
	t.regex(following, /line 30/);
	t.notRegex(following, /line 25\b/);
	const back = render(<LogsPane title="Log" lines={lines} focused theme={dark} height={6} width={60} scroll={10} />).lastFrame() ?? '';
	t.regex(back, /scrolled back 10 lines/);
	t.regex(back, /line 20/);
	t.notRegex(back, /line 30/);
});

test('/ then typing filters the peers, and Esc clears the filter', async (t) => {
	const app = render(<ConsoleApp data={data} theme={dark} columns={140} rows={45} />);
	for (const key of ['/', 'b', 'a', 'k']) {
		app.stdin.write(key);
		await tick();
	}
	const filtered = await frameMatching(app, /filter \/bak/);
	t.regex(filtered, /filter \/bak/);
	t.true(filtered.includes('bakery-door') && !filtered.includes('north-entrance'));
	app.stdin.write('\u001B');
	const cleared = await frameMatching(app, /north-entrance/);
	t.true(cleared.includes('north-entrance'));
	app.unmount();
});

test('scrolling the logs pane with the arrows and f to follow again', (t) => {
	let state = reduce(initialState, { type: 'scroll-logs', by: 5, lines: 30 });
	t.is(state.logScroll, 5);
	state = reduce(state, { type: 'scroll-logs', by: 100, lines: 30 });
	t.is(state.logScroll, 29, 'never past the first line');
	t.is(reduce(state, { type: 'follow-logs' }).logScroll, 0);
});

test('Enter on a peer shows its own view of its areas, with its permits; Esc goes back', async (t) => {
	const view = [{ id: 'bakery', kind: 'store' as const, name: 'Bakery', parent: 'ground', capacity: 8, occupancy: 7, staff: 1, refused: 12, permits: 1, lease: 0 }];
	const app = render(<ConsoleApp data={data} theme={dark} columns={160} rows={45} viewOf={(id) => (id === 'bakery-door' ? view : null)} onCommand={() => {}} />);
	app.stdin.write('\t'); // Peers; bakery-door is the first row
	await tick();
	app.stdin.write('\r');
	const seen = await frameMatching(app, /as bakery-door sees it/);
	t.regex(seen, /as bakery-door sees it/);
	t.regex(seen, /Bakery .* 7\/8 .* permits 1 lease 0/);
	app.stdin.write('\u001B');
	t.notRegex(await frameMatching(app, /Riverside .*50\/100/), /sees it/);
	app.unmount();
});
