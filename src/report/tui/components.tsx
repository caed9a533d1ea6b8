/**
 * The components only paint what layout.ts computed: lines of styled
 * segments, a spinner where a probe is running. No state, no effects.
 *
 * Colours: only the terminal's own named colours (red, yellow, green,
 * magenta, cyan), which dark and light themes each tune for their
 * background; never black, white or grey, never a background colour, and
 * `dimColor` for secondary text. Every colour repeats a mark or a word
 * (✖ ! ? ✔, CRITICAL), so nothing is lost when a palette makes one faint or
 * NO_COLOR turns them off; the selection is inverse video and a `›`.
 */
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import type { Line, Seg, Tone } from './lines.js';
import { ROW_LABEL_WIDTH, type ProbeRowView, type Screen } from './layout.js';

type InkColor = 'red' | 'yellow' | 'green' | 'magenta' | 'cyan';

const TONE_COLOR: Partial<Record<Tone, InkColor>> = {
  critical: 'red',
  warning: 'yellow',
  unknown: 'magenta',
  ok: 'green',
  info: 'cyan',
  accent: 'cyan',
};

function Segment({ s, color }: { s: Seg; color: boolean }) {
  const c = color && s.tone ? TONE_COLOR[s.tone] : undefined;
  return (
    <Text color={c} dimColor={s.tone === 'muted'} bold={s.bold === true} inverse={s.inverse === true}>
      {s.text}
    </Text>
  );
}

export function StyledLine({ line, color }: { line: Line; color: boolean }) {
  // An empty line still takes its row.
  if (line.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate-end">
      {line.map((s, i) => (
        <Segment key={i} s={s} color={color} />
      ))}
    </Text>
  );
}

export function Lines({ lines, color }: { lines: Line[]; color: boolean }) {
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <StyledLine key={i} line={l} color={color} />
      ))}
    </Box>
  );
}

export function ProbeRowLine({ row, color }: { row: ProbeRowView; color: boolean }) {
  return (
    <Box flexDirection="row">
      <Box width={2} flexShrink={0}>
        {row.spinning ? (
          <Text color={color ? 'cyan' : undefined}>
            <Spinner type="dots" />
          </Text>
        ) : (
          <Segment s={row.mark} color={color} />
        )}
      </Box>
      <Box width={ROW_LABEL_WIDTH} flexShrink={0}>
        <Text bold>{row.label}</Text>
      </Box>
      <Lines lines={row.lines} color={color} />
    </Box>
  );
}

/** The whole screen, exactly as laid out: header, blank, probe rows and a blank (main view), pane, footer. */
export function ScreenView({ screen, color }: { screen: Screen; color: boolean }) {
  return (
    <Box flexDirection="column" width={screen.width}>
      <Lines lines={screen.header} color={color} />
      <Text> </Text>
      {screen.rows ? (
        <Box flexDirection="column">
          {screen.rows.map((r) => (
            <ProbeRowLine key={r.name} row={r} color={color} />
          ))}
          <Text> </Text>
        </Box>
      ) : null}
      <Lines lines={screen.body} color={color} />
      <Lines lines={screen.footer} color={color} />
    </Box>
  );
}
