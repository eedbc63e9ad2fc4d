/**
 * The one rule for file names Berth writes into the guest on someone's say-so (the editor,
 * share links): inside the workspace, no `..`, no control characters.
 */
export const WORKSPACE = '/workspace';

/** A path relative to the workspace: no `..`, no absolute path, no control characters. */
export function isSafeRelativePath(path: string): boolean {
  return (
    path.length > 0 &&
    path.length <= 255 &&
    !path.startsWith('/') &&
    !path.endsWith('/') &&
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    !/[\x00-\x1f\x7f]/.test(path) &&
    path.split('/').every((part) => part !== '' && part !== '.' && part !== '..')
  );
}

/** An absolute guest path inside /workspace by the same rule. */
export function isSafeWorkspacePath(path: string): boolean {
  return path.startsWith(`${WORKSPACE}/`) && isSafeRelativePath(path.slice(WORKSPACE.length + 1));
}
