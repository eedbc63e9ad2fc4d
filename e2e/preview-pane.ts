/** Looking at a published port the way a person does: open the preview on it and reload until it shows `text`. */
import { expect, type Page } from '@playwright/test';

export async function previewShows(page: Page, port: number, text: string): Promise<void> {
  if (!(await page.getByTestId('preview').isVisible())) await page.getByTestId('preview-toggle').click();
  await page.getByTestId(`preview-port-${port}`).click();
  const body = page.frameLocator('[data-testid="preview-frame"]').locator('body');
  await expect(async () => {
    await page.getByRole('button', { name: 'Reload the preview' }).click();
    await expect(body).toContainText(text, { timeout: 5000 });
  }).toPass({ timeout: 2 * 60_000 });
}
