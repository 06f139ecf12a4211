import { Text } from 'ink';
import { levelOf, type AreaRow } from '../console-data.js';
import { paint, type Theme } from '../theme.js';
import Bar from './Bar.js';
import { SPARKS } from './SavedPane.js';
import Pane from './Pane.js';

export interface Props {
	readonly areas: readonly AreaRow[];
	readonly focused: boolean;
	readonly theme: Theme;
	readonly height: number;
	readonly width: number;
	/** Set when showing one sensor's own view (its areas and permits) instead of the observer's. */
	readonly viewedBy?: string | null;
}

const LEVEL_WORD = { ok: '', warn: ' NEAR', danger: ' FULL' } as const;

/** Occupancy over time against capacity (not against its own peak): a full floor reads as a full block. */
export function occupancySparkline(values: readonly number[], capacity: number, width: number): string {
	return values
		.slice(-width)
		.map((value) => SPARKS[Math.max(0, Math.min(SPARKS.length - 1, Math.round((value / Math.max(1, capacity)) * (SPARKS.length - 1))))])
		.join('');
}

/** The mall, each floor and its stores against capacity: a bar each, visitors, staff beside them, refusals. */
/** Columns beside the bar: name 18, " 150/150 " 10, " staff  18" 10, " refused   197" 14, " FULL" 5, borders 4. */
const BESIDE_BAR = 61;

export default function OccupancyPane({ areas, focused, theme, height, width, viewedBy = null }: Props) {
	// Narrow (an 80-column terminal): staff and refusals give way to the bar.
	const permitsWidth = areas.some((area) => area.permits !== undefined) ? 22 : 0;
	const narrow = width < BESIDE_BAR + permitsWidth + 10;
	const barWidth = Math.max(6, width - permitsWidth - (narrow ? BESIDE_BAR - 24 : BESIDE_BAR));
	const ordered: AreaRow[] = [];
	for (const area of areas.filter((row) => row.kind !== 'store')) {
		ordered.push(area);
		if (area.kind === 'floor') ordered.push(...areas.filter((row) => row.parent === area.id));
	}
	// Stores whose floor is not shown (a store door's own console) still get their row.
	ordered.push(...areas.filter((row) => row.kind === 'store' && !ordered.includes(row)));
	const room = Math.max(1, height - 3);
	const rows = ordered.length > room ? ordered.slice(0, room - 1) : ordered;
	// A sparkline under the mall and each floor, when every row still fits with them.
	const withHistory = rows.filter((area) => (area.history?.length ?? 0) > 1);
	const sparklines = rows.length === ordered.length && rows.length + withHistory.length <= room;
	return (
		<Pane
			title={`Occupancy — ${areas.filter((area) => levelOf(area.occupancy, area.capacity) === 'danger').length} full${viewedBy ? ` — as ${viewedBy} sees it (Esc: the whole mall)` : ''}`}
			focused={focused}
			theme={theme}
			height={height}
		>
			{rows.flatMap((area) => {
				const level = levelOf(area.occupancy, area.capacity);
				const indent = area.kind === 'store' ? '   ' : area.kind === 'floor' ? ' ' : '';
				const history = sparklines && (area.history?.length ?? 0) > 1 ? area.history! : null;
				const shown = history === null ? 0 : Math.min(history.length, Math.max(10, width - 24));
				const trend = history === null ? [] : [
					<Text key={`${area.id}-trend`} wrap="truncate" color={paint(theme, 'dim')}>
						{`${indent}  last ${shown} s`.padEnd(18)}
						<Text color={paint(theme, level)}>{occupancySparkline(history, area.capacity, shown)}</Text>
					</Text>,
				];
				// One Text per row, the parts nested: sibling Texts in a Box would be shrunk and wrapped by flexbox.
				return [
					<Text key={area.id} wrap="truncate">
						<Text color={paint(theme, area.kind === 'store' ? 'text' : 'accent')} bold={area.kind !== 'store'}>
							{(indent + area.name).slice(0, 17).padEnd(18)}
						</Text>
						<Bar share={area.occupancy / area.capacity} width={barWidth} level={level} theme={theme} />
						<Text color={paint(theme, level)}>{` ${String(area.occupancy).padStart(4)}/${String(area.capacity).padEnd(4)}`}</Text>
						{narrow ? null : <Text color={paint(theme, 'dim')}>{` staff ${String(area.staff).padStart(3)} refused ${String(area.refused).padStart(5)}`}</Text>}
						<Text bold color={paint(theme, level)}>
							{LEVEL_WORD[level]}
						</Text>
						{area.permits === undefined ? null : <Text color={paint(theme, 'accent')}>{`  permits ${area.permits}`}</Text>}
						{area.lease === undefined || area.lease === null ? null : <Text color={paint(theme, area.lease > 0 ? 'dim' : 'danger')}>{` lease ${area.lease}`}</Text>}
					</Text>,
					...trend,
				];
			})}
			{areas.length === 0 ? <Text color={paint(theme, 'dim')}>the tracker counts nothing itself: its members are in Peers</Text> : null}
			{ordered.length > rows.length ? <Text color={paint(theme, 'dim')}>{`… ${ordered.length - rows.length} more (a taller terminal shows them)`}</Text> : null}
		</Pane>
	);
}
