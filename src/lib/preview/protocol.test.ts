import { describe, expect, it } from 'vitest';
import { parsePreviewUrl, previewUrl, rewriteLocation } from './protocol';

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
