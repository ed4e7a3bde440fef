/** Glance v2: only what the shim needs — the guest OS an image declares. */
import { z } from 'zod';
import type { OpenStackHttp } from './http.js';

// Glance v2 returns custom image properties as top-level keys of the image.
const Image = z.object({
  id: z.string(),
  name: z.string().nullish(),
  os_type: z.string().nullish(),
  os_distro: z.string().nullish(),
  os_version: z.string().nullish(),
});
export type GlanceImage = z.infer<typeof Image>;

export class GlanceClient {
  constructor(private readonly http: OpenStackHttp) {}

  async getImage(endpoint: string, token: string, id: string): Promise<GlanceImage> {
    return (await this.http.request('glance', `${endpoint}/v2/images/${encodeURIComponent(id)}`, { token, schema: Image })).body;
  }
}
