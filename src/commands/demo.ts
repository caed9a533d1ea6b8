import { buildProgram } from '../program.js';

/** Until the demo UI lands, `npm start` shows what netdoctor will do. */
export async function run(_opts: Record<string, unknown>): Promise<number> {
  process.stdout.write(buildProgram().helpInformation());
  return 0;
}
