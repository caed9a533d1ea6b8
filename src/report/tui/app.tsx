/**
 * The UI: one reducer holds the state, the layout turns it into lines, the
 * components paint them. The effects here are the only moving parts, and
 * each undoes itself: the run in progress is aborted through the runner's
 * signal when a new one starts or the UI goes away, the auto-refresh timer
 * is cleared, the resize listener removed. Nothing is left behind after `q`.
 */
import { useApp, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { errorMessage } from '../../shared/errors.js';
import { ScreenView } from './components.js';
import { layoutScreen, type FirstRunFacts, type HeaderInfo, type Size } from './layout.js';
import type { RunSource } from './source.js';
import { commandsForInput, initialState, reduce, type TuiState } from './state.js';

export type ExitReason = 'quit' | 'init';

export interface AppProps {
  source: RunSource;
  info: HeaderInfo;
  refreshMs: number;
  /** Show the first-run screen (no config found) and wait for the user before probing. */
  firstRun?: FirstRunFacts;
  /** Start with auto-refresh on. */
  auto?: boolean;
  /** Paint in colour (false for NO_COLOR, TERM=dumb). */
  color: boolean;
  /** A fixed size (tests); otherwise the terminal's, following resizes. */
  size?: Size;
  /** Called with every state the UI shows; for tests and diagnostics. */
  onState?: (state: TuiState) => void;
  /** Injected in tests; `Date.now` otherwise. */
  now?: () => number;
}

function useTerminalSize(fixed?: Size): Size {
  const { stdout } = useStdout();
  const read = (): Size => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState<Size>(fixed ?? read());
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // read() only closes over stdout
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout, fixed]);
  return fixed ?? size;
}

export function App(props: AppProps) {
  const { source, info, refreshMs, firstRun, color, onState } = props;
  const now = props.now ?? Date.now;
  const { exit } = useApp();
  const [state, dispatch] = useReducer(reduce, { probes: source.probes, refreshMs, firstRun: firstRun !== undefined, auto: props.auto }, initialState);
  const size = useTerminalSize(props.size);
  const screen = useMemo(() => layoutScreen(state, info, size, firstRun), [state, info, size, firstRun]);
  const viewport = useRef(screen.viewport);
  viewport.current = screen.viewport;

  onState?.(state);

  // One run per runSeq; a newer run or unmounting aborts it (the runner closes sockets and kills children on abort).
  useEffect(() => {
    if (state.runSeq === 0) return;
    const seq = state.runSeq;
    const controller = new AbortController();
    source
      .run(controller.signal, (event) => {
        if (!controller.signal.aborted) dispatch({ type: 'run-event', seq, event });
      })
      .then(
        (outcome) => {
          if (!controller.signal.aborted) dispatch({ type: 'run-done', seq, outcome, finishedAt: now() });
        },
        (err: unknown) => {
          if (!controller.signal.aborted) dispatch({ type: 'run-failed', seq, message: errorMessage(err) });
        },
      );
    return () => controller.abort(new Error('the UI stopped this run'));
    // now() is stable for the life of the UI
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.runSeq, source]);

  // Auto-refresh: the next run starts refreshMs after the last one finished; the timer dies with the state that armed it.
  const finishedAt = state.shown?.finishedAt;
  useEffect(() => {
    if (!state.auto || state.phase !== 'done' || finishedAt === undefined) return;
    const seq = state.runSeq;
    const timer = setTimeout(() => dispatch({ type: 'auto-tick', seq }), Math.max(0, finishedAt + refreshMs - now()));
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.auto, state.phase, state.runSeq, finishedAt, refreshMs]);

  useEffect(() => {
    if (state.quit) exit(state.quit);
  }, [state.quit, exit]);

  useInput((input, key) => {
    for (const command of commandsForInput(input, key)) dispatch({ type: 'command', command, viewport: viewport.current });
  });

  // Handing the terminal to `netdoctor init`: leave a clean screen for its questions.
  if (state.quit === 'init') return null;
  return <ScreenView screen={screen} color={color} />;
}
