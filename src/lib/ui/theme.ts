/** Terminal colours for the page's light and dark themes. */
import type { ITheme } from '@xterm/xterm';

export function terminalTheme(dark: boolean): ITheme {
  return dark
    ? { background: '#0f1419', foreground: '#e6e1cf', cursor: '#ffcc66', selectionBackground: '#3a4a5c' }
    : {
        background: '#fbfbf8',
        foreground: '#1f2328',
        cursor: '#1f6feb',
        selectionBackground: '#b6d3ff',
        black: '#1f2328',
        brightBlack: '#57606a',
        green: '#116329',
        brightGreen: '#1a7f37',
        blue: '#0550ae',
        brightBlue: '#0969da',
        yellow: '#7d4e00',
        brightYellow: '#9a6700',
        white: '#6e7781',
        brightWhite: '#8c959f',
      };
}
