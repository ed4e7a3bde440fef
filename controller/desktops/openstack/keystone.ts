/**
 * Keystone v3: password login (token in X-Subject-Token, endpoints from the catalog), project
 * scoping, revocation, and a re-authenticating token source for service-side tools.
 */
import { z } from 'zod';
import { OpenStackError } from './errors.js';
import type { OpenStackHttp } from './http.js';

export interface Endpoints {
  compute: string;
  image: string;
  network: string | null;
}

export interface KeystoneToken {
  token: string;
  expiresAt: Date;
  user: { id: string; name: string };
  project: { id: string; name: string };
  /** Role names the user holds in that project. */
  roles: string[];
  endpoints: Endpoints;
}

export interface Credentials {
  username: string;
  password: string;
  domain: string;
  /** Project name; when absent the user's only (or first, by name) project is used. */
  project?: string | undefined;
}

const CatalogEntry = z.object({
  type: z.string(),
  endpoints: z.array(z.object({ interface: z.string(), url: z.string(), region_id: z.string().nullish(), region: z.string().nullish() })),
});
const TokenBody = z.object({
  token: z.object({
    expires_at: z.string(),
    user: z.object({ id: z.string(), name: z.string() }),
    project: z.object({ id: z.string(), name: z.string() }).optional(),
    roles: z.array(z.object({ name: z.string() })).optional(),
    catalog: z.array(CatalogEntry).optional(),
  }),
});
type TokenBody = z.infer<typeof TokenBody>;
const ProjectsBody = z.object({ projects: z.array(z.object({ id: z.string(), name: z.string(), enabled: z.boolean().optional() })) });
const Empty = z.unknown();

export class KeystoneClient {
  constructor(
    private readonly http: OpenStackHttp,
    /** e.g. http://keystone:5000/v3 */
    private readonly authUrl: string,
    private readonly catalogInterface: 'public' | 'internal' | 'admin',
    private readonly region?: string,
  ) {}

  async login(credentials: Credentials): Promise<KeystoneToken> {
    const user = { name: credentials.username, domain: { name: credentials.domain }, password: credentials.password };
    const identity = { methods: ['password'], password: { user } };
    if (credentials.project) {
      return this.issue({ identity, scope: { project: { name: credentials.project, domain: { name: credentials.domain } } } });
    }
    // No project named: log in unscoped, then pick the user's project and exchange the token.
    const unscoped = await this.post({ identity });
    const projects = await this.http.request('keystone', `${this.authUrl}/auth/projects`, { token: unscoped.token, schema: ProjectsBody });
    const candidates = projects.body.projects.filter((p) => p.enabled !== false).sort((a, b) => a.name.localeCompare(b.name));
    const chosen = candidates[0];
    if (!chosen) throw new OpenStackError('keystone', 'forbidden', 403, `user ${credentials.username} has no project`);
    return this.issue({ identity: { methods: ['token'], token: { id: unscoped.token } }, scope: { project: { id: chosen.id } } });
  }

  /** Whether Keystone still honours this token (its user enabled, not revoked, not expired): asked with the token itself. */
  async isValid(token: string): Promise<boolean> {
    try {
      await this.http.request('keystone', `${this.authUrl}/auth/tokens?nocatalog`, {
        token, headers: { 'X-Subject-Token': token }, schema: Empty,
      });
      return true;
    } catch (error) {
      if (error instanceof OpenStackError && (error.kind === 'not-found' || error.kind === 'unauthorized')) return false;
      throw error;
    }
  }

  async revoke(token: string): Promise<void> {
    await this.http.request('keystone', `${this.authUrl}/auth/tokens`, {
      method: 'DELETE', token, headers: { 'X-Subject-Token': token }, schema: Empty,
    });
  }

  private async issue(auth: unknown): Promise<KeystoneToken> {
    const { token, body } = await this.post(auth);
    const project = body.token.project;
    if (!project) throw new OpenStackError('keystone', 'invalid-response', 201, 'scoped token without a project');
    return {
      token,
      expiresAt: new Date(body.token.expires_at),
      user: body.token.user,
      project,
      roles: (body.token.roles ?? []).map((r) => r.name),
      endpoints: this.endpointsFrom(body),
    };
  }

  private async post(auth: unknown): Promise<{ token: string; body: TokenBody }> {
    const response = await this.http.request('keystone', `${this.authUrl}/auth/tokens`, { method: 'POST', json: { auth }, schema: TokenBody });
    const token = response.headers['x-subject-token'];
    if (typeof token !== 'string' || !token) throw new OpenStackError('keystone', 'invalid-response', response.status, 'no X-Subject-Token header');
    return { token, body: response.body };
  }

  private endpointsFrom(body: TokenBody): Endpoints {
    const find = (type: string): string | null => {
      const entry = body.token.catalog?.find((c) => c.type === type);
      const endpoint = entry?.endpoints.find((e) => e.interface === this.catalogInterface && (!this.region || (e.region_id ?? e.region) === this.region));
      return endpoint ? endpoint.url.replace(/\/+$/, '') : null;
    };
    const compute = find('compute');
    const image = find('image');
    if (!compute || !image) throw new OpenStackError('keystone', 'invalid-response', 201, `the service catalog has no ${compute ? 'image' : 'compute'} endpoint (${this.catalogInterface})`);
    return { compute, image, network: find('network') };
  }
}

/**
 * A token that renews itself: re-authenticates with the password when the current token is within
 * `marginSeconds` of expiry. For service-side tools (benchmarks, seeding); the shim itself never
 * keeps a user's password and acts only with the token the user's login produced.
 */
export class PasswordTokenSource {
  private current: KeystoneToken | null = null;
  logins = 0;

  constructor(private readonly keystone: KeystoneClient, private readonly credentials: Credentials, private readonly marginSeconds = 300) {}

  async get(): Promise<KeystoneToken> {
    if (!this.current || this.current.expiresAt.getTime() - Date.now() < this.marginSeconds * 1000) {
      this.current = await this.keystone.login(this.credentials);
      this.logins += 1;
    }
    return this.current;
  }
}
