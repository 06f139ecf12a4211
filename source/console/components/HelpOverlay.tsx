import { Box, Text } from 'ink';
import { paint, type Theme } from '../theme.js';

export interface Props {
	readonly theme: Theme;
	readonly demo: boolean;
	readonly tracker: boolean;
}

/** Where a key acts: every console, the demo's, or the tracker's. */
type Scope = 'all' | 'demo' | 'tracker';

/** Every key, in one place. The README's table is the same list. */
export const KEYS: readonly (readonly [string, string, Scope])[] = [
	['Tab / Shift-Tab', 'focus the next / previous pane', 'all'],
	['← →', 'focus the previous / next pane', 'all'],
	['↑ ↓', 'select a peer (in Peers); scroll (in Logs)', 'all'],
	['PgUp / PgDn, f', 'scroll the log by 10; f follows its tail again', 'all'],
	['/', 'filter peers; Enter keeps the filter, Esc clears it', 'all'],
	['s', 'sort peers by id, status, area', 'all'],
	['Enter', "the selected peer's log in the right pane, and in the demo its own view of its areas", 'all'],
	['Esc', 'back to the whole mall', 'all'],
	['?', 'this help; Esc or ? closes it', 'all'],
	['q, Ctrl-C', 'quit (the demo prints its summary)', 'all'],
	['space', 'pause / resume traffic', 'demo'],
	['+ / -', 'traffic rate up / down', 'demo'],
	['e / x', "inject an entry / exit at the selected sensor (on a peer's own console: at that peer)", 'all'],
	['k', 'kill the selected peer, as abruptly as kill -9', 'demo'],
	['r', 'restart the selected peer', 'demo'],
	['p', 'partition the selected peer from the rest / heal', 'demo'],
	['l', 'packet loss 0 / 10 / 30 %', 'demo'],
	['R, R', 'revoke the selected account for good: it is refused from then on, its permits go back to its areas', 'tracker'],
];

export default function HelpOverlay({ theme, demo, tracker }: Props) {
	return (
		<Box flexDirection="column" borderStyle="double" borderColor={paint(theme, 'focus')} paddingX={2} paddingY={1}>
			<Text bold color={paint(theme, 'focus')}>
				Keys
			</Text>
			{KEYS.filter(([, , scope]) => scope === 'all' || (scope === 'demo' && demo) || (scope === 'tracker' && tracker)).map(([key, what]) => (
				<Text key={key}>
					<Text bold color={paint(theme, 'accent')}>
						{key.padEnd(18)}
					</Text>
					{what}
				</Text>
			))}
			<Text color={paint(theme, 'dim')}>Esc or ? closes this help</Text>
		</Box>
	);
}
