// Lists come in pages ({ total, items, next }): every item of a list, following `next`.
import type { ApiClient } from './client.js';

interface Page<T> {
  items: T[];
  next: string | null;
}

export async function listAll<T>(client: ApiClient, first: string): Promise<T[]> {
  const out: T[] = [];
  let path: string | null = first;
  while (path) {
    const { body }: { body: Page<T> } = await client.call<Page<T>>('GET', path);
    out.push(...body.items);
    path = body.next;
  }
  return out;
}
