// Follows one backup session's log with the reference graphql-ws client (graphql-transport-ws),
// reconnecting when the socket drops and resuming after the last cursor it received.
//
//   node session_log_client.mjs <ws url> <bearer token> <session id>
//
// Prints one JSON object per line on stdout:
//   {"event": "connected", "retrying": bool}       each acknowledged connection
//   {"event": "records", "sequences": [...]}       each event that carried records
//   {"event": "closed", "code": n}                 each time the socket closed
//   {"event": "done", "completed": bool, "sequences": [...], "status": "...",
//    "subscribedAfter": [...], "error": ...}       at the end
//
// graphql-ws and ws come from the explorer's npm packages (vdc_graph/http/explorer).
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(
  path.join(here, "..", "..", "vdc_graph", "http", "explorer", "package.json"),
);
const { createClient } = require("graphql-ws");
const WebSocket = require("ws");

const [url, token, sessionId] = process.argv.slice(2);
const print = (message) => process.stdout.write(JSON.stringify(message) + "\n");

const SESSION_LOG = `subscription SessionLog($id: ID!, $after: String) {
  sessionLog(sessionId: $id, after: $after) {
    cursor
    records { sequence status message }
    session { status }
  }
}`;

// graphql-ws sends this same request object again on every reconnect, so keeping its `after`
// at the last cursor received makes each re-subscription resume exactly where the last stopped.
const request = { query: SESSION_LOG, variables: { id: sessionId, after: null } };
const subscribedAfter = [];
const sequences = [];
let status = null;

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 10,
  retryWait: () => new Promise((resolve) => setTimeout(resolve, 200)),
  // Retry every abnormal closure (a dropped socket, a restarting server).
  shouldRetry: (closeEvent) => closeEvent?.code !== 1000,
  on: {
    connected: (_socket, _payload, retrying) => {
      subscribedAfter.push(request.variables.after);
      print({ event: "connected", retrying: Boolean(retrying) });
    },
    closed: (event) => print({ event: "closed", code: event?.code ?? null }),
  },
});

let completed = false;
let error = null;
try {
  await new Promise((resolve, reject) => {
    client.subscribe(request, {
      next: (result) => {
        if (result.errors) {
          reject(new Error(JSON.stringify(result.errors)));
          return;
        }
        const event = result.data.sessionLog;
        const received = event.records.map((record) => record.sequence);
        sequences.push(...received);
        status = event.session.status;
        if (event.cursor) request.variables.after = event.cursor;
        if (received.length) print({ event: "records", sequences: received });
      },
      error: reject,
      complete: () => {
        completed = true;
        resolve();
      },
    });
  });
} catch (problem) {
  error = String(problem?.message ?? problem?.code ?? problem);
}
print({ event: "done", completed, sequences, status, subscribedAfter, error });
await client.dispose();
process.exit(completed ? 0 : 1);
