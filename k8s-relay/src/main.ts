import { ConfigError, loadConfig } from './config';
import { loadKubeConfig, makeKube } from './kube';
import { jsonLogger } from './log';
import type { LogLevel } from './log';
import { startRelay } from './relay';

/** The container's entry point: configuration from the environment, then run until SIGTERM. */
async function main(): Promise<void> {
  const bootLog = jsonLogger((process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      bootLog.error('invalid configuration', { problems: err.problems });
      process.exit(78); // EX_CONFIG: a restart will not help until the manifest changes
    }
    throw err;
  }
  const log = jsonLogger(config.logLevel);
  const relay = await startRelay(config, { kube: makeKube(loadKubeConfig()), log });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    relay.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('unclean shutdown', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'relay failed to start', error: String(err) })}\n`);
  process.exit(1);
});
