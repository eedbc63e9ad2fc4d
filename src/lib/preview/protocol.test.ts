import { describe, expect, it } from 'vitest';
import { bodyTransferList, discardBody, parsePreviewUrl, previewUrl, readWholeBody, rewriteLocation } from './protocol';

describe('preview URLs', () => {
  it('map to a guest port and path under any base path', () => {
    expect(parsePreviewUrl(new URL('http://h/preview/5001/'), '/')).toEqual({ port: 5001, path: '/' });
    expect(parsePreviewUrl(new URL('http://h/preview/5001'), '/')).toEqual({ port: 5001, path: '/' });
    expect(parsePreviewUrl(new URL('http://h/class/berth/preview/8080/a/b.png?x=1'), '/class/berth/')).toEqual({ port: 8080, path: '/a/b.png?x=1' });
    expect(previewUrl('http://h/class/berth/', 5001)).toBe('http://h/class/berth/preview/5001/');
  });

  it('are not anything else', () => {
    expect(parsePreviewUrl(new URL('http://h/assets/x.js'), '/')).toBeNull();
    expect(parsePreviewUrl(new URL('http://h/preview/abc/'), '/')).toBeNull();
    expect(parsePreviewUrl(new URL('http://h/preview/70000/'), '/')).toBeNull();
    expect(parsePreviewUrl(new URL('http://h/other/preview/80/'), '/class/')).toBeNull();
  });

  it('names another instance before the port, and only an instance', () => {
    expect(parsePreviewUrl(new URL('http://h/preview/node2:8080/x?y=1'), '/')).toEqual({ host: 'node2', port: 8080, path: '/x?y=1' });
    expect(previewUrl('http://h/b/', 8080, '/x', 'node3')).toBe('http://h/b/preview/node3:8080/x');
    expect(previewUrl('http://h/b/', 8080, '/', 'node1')).toBe('http://h/b/preview/8080/');
    expect(parsePreviewUrl(new URL('http://h/preview/evil:8080/'), '/')).toBeNull();
    expect(rewriteLocation('/login', 5001, 'http://h/b/', 'node2')).toBe('http://h/b/preview/node2:5001/login');
    expect(rewriteLocation('http://node2:5002/', 5001, 'http://h/b/', 'node2')).toBe('http://h/b/preview/node2:5002/');
  });
});

describe('rewriteLocation', () => {
  const base = 'http://h/b/';
  it('keeps redirects to the app inside the preview', () => {
    expect(rewriteLocation('/login?next=%2F', 5001, base)).toBe('http://h/b/preview/5001/login?next=%2F');
    expect(rewriteLocation('http://localhost:5001/x', 5001, base)).toBe('http://h/b/preview/5001/x');
    expect(rewriteLocation('http://localhost:8081/', 5001, base)).toBe('http://h/b/preview/8081/');
    expect(rewriteLocation('next', 5001, base)).toBe('http://h/b/preview/5001/next');
  });
  it('leaves other sites alone', () => {
    expect(rewriteLocation('https://example.com/', 5001, base)).toBe('https://example.com/');
  });
});

describe('reply bodies', () => {
  const stream = (...parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });

  it('read whole for a browser that cannot transfer streams, and transfer their bytes', async () => {
    const bytes = await readWholeBody(stream('<h1>', 'Welcome to nginx!', '</h1>'));
    expect(new TextDecoder().decode(bytes)).toBe('<h1>Welcome to nginx!</h1>');
    expect(bodyTransferList(bytes)).toEqual([bytes.buffer]);
  });

  it('cancel a stream nobody reads; bytes need nothing', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({ cancel: () => void (cancelled = true) });
    discardBody(body);
    await Promise.resolve();
    expect(cancelled).toBe(true);
    expect(() => discardBody(new Uint8Array(3))).not.toThrow();
  });
});
