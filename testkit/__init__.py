"""The harness the tests and the benchmarks share (imported as `testkit`: pytest's pythonpath has the
repository root; bench/harness.py puts it on sys.path).

- `processes`: the system's real processes on free ports (a backend alone, the full stack), `Running`.
- `demo`: the demo mode's credentials and the tokens the API gives for them (agents, widget, service).
- `databases`: throwaway PostgreSQL databases, rows written straight into a backend's SQLite file.
- `chat_client`, `live_clients`: socket.io clients of `/chat` and `/agent` that behave like the widget
  and the console.
- `api_roles`: every caller of the REST API, for role tables.
- `traps`: real SNMP traps (net-snmp's `snmptrap`, pysnmp, raw v2c packets).
- `browser`: Debian's chromium for Playwright and a page factory that fails on JS errors.
- `seeded`: agents, contacts and conversations on a seeded database, in process.
- `waiting`: polling until something holds.

Modules import backend-only packages (promptlink, socketio, pysnmp) at the top only where every user
has them: `processes`, `demo`, `databases` and `waiting` load in the bot environment too
(tests/conftest.py imports them for tests/actions).
"""
