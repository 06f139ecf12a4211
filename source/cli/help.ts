/** Help for the binary and each role: every flag, with its default. */
export const HELP = {
	main: `footfall — occupancy control for shopping malls

Usage: footfall <role> [flags]

Roles:
  tracker    hold the mall layout and accounts, authenticate and certify members
  peer       one sensor: decide every entry and exit at its door
  observer   watch the occupancy of the mall, its floors and stores (read-only)
  demo       tracker, every sensor, an observer and simulated shoppers in one process

Run 'footfall <role> --help' for the flags of a role.
Without a terminal (a pipe, CI) or with --headless, every role prints JSON lines.`,

	tracker: `Usage: footfall tracker --fixture FILE [flags]

  --fixture FILE       the mall fixture (floors, stores, sensors, accounts)
  --listen HOST:PORT   where to receive datagrams (default 127.0.0.1:7700; port 0 picks a free one)
  --data DIR           keep the tracker's keys here, so peers that pinned its key still trust it after a restart
  --theme NAME         dark (default), light, high-contrast, mono, or a theme file; NO_COLOR forces mono
  --headless           print JSON lines instead of a console
  --help               this text

The first line printed is {"type":"ready","role":"tracker","listen":"HOST:PORT","key":…}.`,

	peer: `Usage: footfall peer --tracker HOST:PORT --user USER --password-file FILE [flags]

  --tracker HOST:PORT    the tracker to join
  --user USER            the account; it names the sensor this peer speaks for
  --password-file FILE   a file whose first line is the account's password
  --sensor ID            refuse to start unless the account speaks for this sensor
  --listen HOST:PORT     where to receive datagrams (default 127.0.0.1:0, a free port)
  --data DIR             keep this peer's keys and incarnation here between runs
  --tracker-key KEY      the tracker's key (from its ready line): refuse any other
  --join-timeout S       give up joining after S seconds (default 10)
  --theme NAME           dark (default), light, high-contrast, mono, or a theme file; NO_COLOR forces mono
  --headless             print JSON lines instead of a console
  --help                 this text

Headless, the peer reads commands on stdin, one per line, and answers each with one JSON line:
  enter | exit | enter staff | exit staff    move one person through the sensor (enter: inward)
  status                                     its counters and what it knows of each area
  quit                                       leave the network cleanly and exit`,

	observer: `Usage: footfall observer --tracker HOST:PORT --user USER --password-file FILE [flags]

  --tracker HOST:PORT    the tracker to join
  --user USER            an observer account
  --password-file FILE   a file whose first line is the account's password
  --areas A,B,…          the areas to follow (default: all)
  --listen HOST:PORT     where to receive datagrams (default 127.0.0.1:0)
  --tracker-key KEY      the tracker's key (from its ready line): refuse any other
  --join-timeout S       give up joining after S seconds (default 10)
  --theme NAME           dark (default), light, high-contrast, mono, or a theme file; NO_COLOR forces mono
  --headless             print JSON lines instead of a console
  --help                 this text

Headless, it prints {"type":"occupancy","areas":{…}} whenever a figure changes (at most 10 a second).`,

	demo: `Usage: footfall demo [flags]

  --fixture FILE     the mall (default fixtures/malls/demo.json; its passwords from FILE with .passwords.json)
  --duration S       run the traffic for S seconds, then drain and print a summary (default: until quit)
  --rate N           moves tried per second (default 300)
  --seed N           makes the traffic reproducible (default 1)
  --theme NAME       dark (default), light, high-contrast, mono, or a theme file; NO_COLOR forces mono
  --headless         print JSON lines instead of a console
  --help             this text

Every sensor gets its own UDP socket on 127.0.0.1. The last line is the summary:
{"type":"summary","areas":{…},"violations":N,"converged":true|false,"datagrams":{…},"moves":{…},"falseRefusals":{…},"decisionMs":{…}}`,
} as const;
