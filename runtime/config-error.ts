/** A configuration that cannot be used: thrown once at start, naming the file or variable and the rule broken. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
