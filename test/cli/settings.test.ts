import { describe, expect, it } from 'vitest';
import { CliError } from '../../cli/cli-error.ts';
import { configFilePath, resolveSettings, type SettingsContext } from '../../cli/settings.ts';

function context(
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): SettingsContext {
  return {
    env,
    cwd: '/work/project',
    home: '/home/ada',
    platform: 'linux',
    readFile: (path) => files[path],
  };
}

const CONFIG = '/home/ada/.config/lcm/config.json';

describe('resolveSettings', () => {
  it('falls back on the local origin and no token when nothing is set', () => {
    const settings = resolveSettings({}, context());
    expect(settings.origin).toBe('http://127.0.0.1:7400');
    expect(settings.token).toBeUndefined();
    expect(settings.sources).toEqual({ origin: 'default', token: 'none' });
  });

  it('uses ./data/admin.token when no token is given anywhere', () => {
    const settings = resolveSettings(
      {},
      context({}, { '/work/project/data/admin.token': 'adm-123\n' }),
    );
    expect(settings.token).toBe('adm-123');
    expect(settings.sources.token).toBe('default');
  });

  it('prefers flags over the environment over the config file', () => {
    const files = {
      [CONFIG]: JSON.stringify({ origin: 'http://config:1', token: 'from-config' }),
      '/work/project/data/admin.token': 'local',
    };
    const env = { LCM_ORIGIN: 'http://env:2/', LCM_TOKEN: 'from-env' };

    expect(resolveSettings({}, context({}, files))).toMatchObject({
      origin: 'http://config:1',
      token: 'from-config',
      sources: { origin: 'config', token: 'config' },
    });
    expect(resolveSettings({}, context(env, files))).toMatchObject({
      origin: 'http://env:2',
      token: 'from-env',
      sources: { origin: 'env', token: 'env' },
    });
    expect(
      resolveSettings({ origin: 'http://flag:3/v1', token: 'from-flag' }, context(env, files)),
    ).toMatchObject({ origin: 'http://flag:3', token: 'from-flag', sources: { origin: 'flag' } });
  });

  it('reads a token file relative to the working directory', () => {
    const files = { '/work/project/secrets/t': '  tok-9 \n' };
    expect(resolveSettings({}, context({ LCM_TOKEN_FILE: 'secrets/t' }, files)).token).toBe(
      'tok-9',
    );
  });

  it('refuses a token and a token file at the same level, naming both', () => {
    expect(() => resolveSettings({ token: 'a', tokenFile: 'b' }, context())).toThrow(
      /--token and --token-file/,
    );
    expect(() => resolveSettings({}, context({ LCM_TOKEN: 'a', LCM_TOKEN_FILE: 'b' }))).toThrow(
      /LCM_TOKEN and LCM_TOKEN_FILE/,
    );
  });

  it('fails with a usage error on a missing token file, a bad URL or a broken config file', () => {
    const failures = [
      () => resolveSettings({ tokenFile: 'nope' }, context()),
      () => resolveSettings({ origin: 'ftp://x' }, context()),
      () => resolveSettings({}, context({}, { [CONFIG]: '{"origin": ' })),
      () => resolveSettings({}, context({}, { [CONFIG]: '{"token": 5}' })),
      () => resolveSettings({ config: 'missing.json' }, context()),
    ];
    for (const failure of failures) {
      try {
        failure();
        expect.unreachable('should have thrown');
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect((error as CliError).kind).toBe('usage');
      }
    }
  });

  it('finds the config file in XDG_CONFIG_HOME, LCM_CONFIG or APPDATA', () => {
    expect(configFilePath(context())).toBe(CONFIG);
    expect(configFilePath(context({ XDG_CONFIG_HOME: '/xdg' }))).toBe('/xdg/lcm/config.json');
    expect(configFilePath(context({ LCM_CONFIG: 'my.json' }))).toBe('/work/project/my.json');
    const windows = { ...context({ APPDATA: '/appdata' }), platform: 'win32' as const };
    expect(configFilePath(windows)).toBe('/appdata/lcm/config.json');
  });
});
