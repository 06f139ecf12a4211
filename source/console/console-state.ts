/**
 * The console's own state, apart from the data it shows: which pane has focus, whether
 * help is open, the peers filter and sort. A pure reducer, tested without a terminal.
 */
export const PANES = ['occupancy', 'peers', 'saved', 'recovery', 'logs'] as const;
export type Pane = (typeof PANES)[number];

export const PEER_SORTS = ['id', 'status', 'area'] as const;
export type PeerSort = (typeof PEER_SORTS)[number];

export interface ConsoleState {
	readonly focus: Pane;
	readonly help: boolean;
	/** Typing a filter after `/`: keys go to the filter until Enter or Esc. */
	readonly filtering: boolean;
	readonly filter: string;
	readonly sort: PeerSort;
	/** The selected row of the peers pane (the sensor the demo's keys act on). */
	readonly selected: number;
	/** Lines scrolled back from the end of the logs; 0 follows the tail as it grows. */
	readonly logScroll: number;
}

export const initialState: ConsoleState = { focus: 'occupancy', help: false, filtering: false, filter: '', sort: 'id', selected: 0, logScroll: 0 };

export type ConsoleAction =
	| { readonly type: 'focus-next' }
	| { readonly type: 'focus-previous' }
	| { readonly type: 'toggle-help' }
	| { readonly type: 'close-help' }
	| { readonly type: 'start-filter' }
	| { readonly type: 'filter-key'; readonly text: string }
	| { readonly type: 'filter-backspace' }
	| { readonly type: 'end-filter'; readonly keep: boolean }
	| { readonly type: 'cycle-sort' }
	| { readonly type: 'select'; readonly by: number; readonly rows: number }
	/** Scrolls the logs back (positive) or forward; `lines` is how many there are. */
	| { readonly type: 'scroll-logs'; readonly by: number; readonly lines: number }
	| { readonly type: 'follow-logs' };

export function reduce(state: ConsoleState, action: ConsoleAction): ConsoleState {
	switch (action.type) {
		case 'focus-next':
			return { ...state, focus: PANES[(PANES.indexOf(state.focus) + 1) % PANES.length]! };
		case 'focus-previous':
			return { ...state, focus: PANES[(PANES.indexOf(state.focus) + PANES.length - 1) % PANES.length]! };
		case 'toggle-help':
			return { ...state, help: !state.help };
		case 'close-help':
			return { ...state, help: false };
		case 'start-filter':
			return { ...state, focus: 'peers', filtering: true };
		case 'filter-key':
			return { ...state, filter: state.filter + action.text, selected: 0 };
		case 'filter-backspace':
			return { ...state, filter: state.filter.slice(0, -1) };
		case 'end-filter':
			return { ...state, filtering: false, filter: action.keep ? state.filter : '' };
		case 'cycle-sort':
			return { ...state, sort: PEER_SORTS[(PEER_SORTS.indexOf(state.sort) + 1) % PEER_SORTS.length]! };
		case 'select':
			return { ...state, selected: Math.max(0, Math.min(action.rows - 1, state.selected + action.by)) };
		case 'scroll-logs':
			return { ...state, logScroll: Math.max(0, Math.min(action.lines - 1, state.logScroll + action.by)) };
		case 'follow-logs':
			return { ...state, logScroll: 0 };
		default: {
			const exhaustive: never = action;
			return exhaustive;
		}
	}
}
