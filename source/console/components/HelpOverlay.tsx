import { Box, Text } from 'ink';
import { paint, type Theme } from '../theme.js';

export interface Props {
	readonly theme: Theme;
	readonly demo: boolean;
}

/** Every key, in one place. The README's table is the same list. */
export const KEYS: readonly (readonly [string, string, boolean])[] = [
	['Tab / Shift-Tab', 'focus the next / previous pane', false],
	['← →', 'focus the previous / next pane', false],
	['↑ ↓', 'select a peer (in Peers); scroll (in Logs)', false],
	['PgUp / PgDn, f', 'scroll the log by 10; f follows its tail again', false],
	['/', 'filter peers; Enter keeps the filter, Esc clears it', false],
	['s', 'sort peers by id, status, area', false],
	['Enter', "the selected peer's log in the right pane, and in the demo its own view of its areas", false],
	['Esc', 'back to the whole mall', false],
	['?', 'this help; Esc or ? closes it', false],
	['q, Ctrl-C', 'quit (the demo prints its summary)', false],
	['space', 'pause / resume traffic', true],
	['+ / -', 'traffic rate up / down', true],
	['e / x', "inject an entry / exit at the selected sensor (on a peer's own console: at that peer)", false],
	['k', 'kill the selected peer, as abruptly as kill -9', true],
	['r', 'restart the selected peer', true],
	['p', 'partition the selected peer from the rest / heal', true],
	['l', 'packet loss 0 / 10 / 30 %', true],
];

export default function HelpOverlay({ theme, demo }: Props) {
	return (
		<Box flexDirection="column" borderStyle="double" borderColor={paint(theme, 'focus')} paddingX={2} paddingY={1}>
			<Text bold color={paint(theme, 'focus')}>
				Keys
			</Text>
			{KEYS.filter(([, , demoOnly]) => demo || !demoOnly).map(([key, what]) => (
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
