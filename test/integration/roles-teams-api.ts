// A Teams API for the role tests: a real local HTTP server speaking the contract Zalando's operator uses
// (`GET /teams/{id}` with `Authorization: Bearer <token>`, members in `member`), with failure modes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { applyManifest } from './operator';

/** A Teams API: `GET /teams/{id}` with `Authorization: Bearer <token>`; `mode` switches to failures. */
export class TeamsApi {
  mode: 'ok' | 'error' | 'garbage' | 'not-json' = 'ok';
  teams: Record<string, string[]> = {};
  requests: string[] = [];
  private server: Server | undefined;
  url = '';
  constructor(private readonly token: string) {}

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}/api/`;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return json(401, { error: 'invalid token' });
    if (this.mode === 'error') return json(500, { error: 'the team service is down' });
    if (this.mode === 'not-json') {
      res.writeHead(200);
      res.end('<html>maintenance</html>');
      return;
    }
    if (this.mode === 'garbage') return json(200, { id: 'acid', member: 'not-a-list' });
    const match = /^\/api\/teams\/([^/]+)$/.exec(req.url ?? '');
    const team = match ? this.teams[decodeURIComponent(match[1]!)] : undefined;
    if (!team) return json(404, { error: 'team not found' });
    json(200, {
      dn: 'x',
      id: match![1],
      id_name: match![1],
      team_id: match![1],
      type: 'official',
      name: 'Team',
      mail: [],
      member: team,
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/**
 * Applies the token Secret the role step reads for the Teams API (`oauth_token_secret_name` `postgresql-operator`),
 * as in Zalando's fake Teams API example (v1.0.0 fake-teams-api.yaml): type Bearer, the given token.
 */
export async function applyTeamsToken(namespace: string, token: string): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  await applyManifest(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'postgresql-operator' },
      data: { 'read-only-token-type': b64('Bearer'), 'read-only-token-secret': b64(token) },
    },
    namespace,
  );
}
