// The environment of an executable step: what it inherits from the worker, and the
// credential variables it never gets.

/**
 * Variables that carry AWS credentials (static keys, the container credentials
 * endpoint and its token, web identity): never in a step's environment, whoever set them.
 */
export const CREDENTIAL_ENV_NAMES: readonly string[] = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
];

/**
 * An executable step's environment: the worker's PATH, HOME and TMPDIR, then the task's
 * variables (stepEnv), less every CREDENTIAL_ENV_NAMES entry, even one the manifest's
 * `env` or a jobconf key named (a step never gets the worker's credentials through us).
 */
export function childEnv(taskVars: Readonly<Record<string, string>>, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { ...baseEnv(from), ...taskVars };
  for (const name of CREDENTIAL_ENV_NAMES) delete env[name];
  return env;
}

/** The worker's PATH, HOME and TMPDIR (when set): the only variables a step inherits. */
export function baseEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR'] as const) {
    const v = from[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}
